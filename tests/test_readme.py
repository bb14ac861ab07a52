"""The README stays true: every configuration key documented, the quickstart commands real."""

from __future__ import annotations

import os
from pathlib import Path

from bot.config import defaults

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_configuration_key_is_documented() -> None:
    missing = [key for key in defaults("instance") if f"`PUFA_{key}`" not in README]
    assert missing == []


def test_quickstart_commands_exist_and_ci_runs_the_test_command() -> None:
    for command in ("scripts/serve", "scripts/test"):
        assert f"./{command}" in README
        assert os.access(ROOT / command, os.X_OK), f"{command} is not executable"
    ci_steps = [
        line
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert ci_steps[-1] == "./scripts/test"
    assert "## Knowledge base tools" in README and "## Benchmarks" in README


def test_every_kb_command_is_documented() -> None:
    from click import Group

    from knowledge.cli import kb

    def names(group: Group, prefix: str) -> list[str]:
        found = []
        for name, command in group.commands.items():
            found.append(f"{prefix} {name}")
            if isinstance(command, Group):
                found.extend(names(command, f"{prefix} {name}"))
        return found

    missing = [name for name in names(kb, "kb") if f"`{name}" not in README]
    assert missing == []


def test_every_users_command_is_documented() -> None:
    from knowledge.users_cli import users

    missing = [name for name in users.commands if f"`flask users {name}" not in README]
    assert missing == []
