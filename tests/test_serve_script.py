"""scripts/serve's first-start steps, run twice as a newcomer restarting it would.

The second start keeps the first one's session key (so residents and sign-ins survive a
restart) and finds the demo account instead of failing to make it again. The steps run in
a copy of the project's layout (symlinks to the packages and .venv), so the instance/
folder is the test's own and a developer's is never touched.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINKED = ("bot", "knowledge", "scheduler", "console", "wsgi.py", ".venv")


def project_copy(tmp_path: Path) -> Path:
    """A folder laid out like the repository, with scripts/ copied and the rest linked."""
    home = tmp_path / "pufa"
    (home / "scripts").mkdir(parents=True)
    (home / "scripts" / "first_run.sh").write_bytes(
        (ROOT / "scripts" / "first_run.sh").read_bytes()
    )
    for name in LINKED:
        (home / name).symlink_to(ROOT / name)
    return home


def first_start_steps(home: Path) -> str:
    """Run the steps scripts/serve takes before it starts anything; return what they print."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUFA_", "FLASK_"))}
    script = '. scripts/first_run.sh; pufa_session_key; pufa_demo_admin; echo "$console_account"'
    done = subprocess.run(
        ["sh", "-eu", "-c", script],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_serve_uses_the_first_run_steps() -> None:
    serve = (ROOT / "scripts" / "serve").read_text()
    assert ". scripts/first_run.sh" in serve
    assert "pufa_session_key" in serve and "pufa_demo_admin" in serve


def test_a_restart_keeps_the_session_key_and_finds_the_demo_account(tmp_path: Path) -> None:
    home = project_copy(tmp_path)

    first = first_start_steps(home)
    config = home / "instance" / "config.py"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    key_lines = [line for line in config.read_text().splitlines() if line.startswith("SECRET_KEY")]
    assert len(key_lines) == 1 and len(key_lines[0]) > 40
    assert "Made a session key" in first
    assert "demo-admin / pufa-" in first

    second = first_start_steps(home)
    assert "Made a session key" not in second
    assert [
        line for line in config.read_text().splitlines() if line.startswith("SECRET_KEY")
    ] == key_lines
    assert "Error" not in second and "已经存在" not in second
    assert "users set-password demo-admin" in second


def test_a_key_given_in_the_environment_is_not_written(tmp_path: Path) -> None:
    home = project_copy(tmp_path)
    done = subprocess.run(
        ["sh", "-eu", "-c", ". scripts/first_run.sh; pufa_session_key"],
        cwd=home,
        env={**os.environ, "PUFA_SECRET_KEY": "from-the-service-environment-0123456789"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not (home / "instance" / "config.py").exists()
