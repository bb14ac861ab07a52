"""``flask users …``: accounts from the command line, through the same functions as the console."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from flask.testing import FlaskCliRunner
from sqlite_utils import Database

from knowledge.audit import list_audit
from knowledge.users import get_user, verify_password

PASSWORD = "命令行设置的密码-2026"


def test_create_from_a_password_file_and_list(
    runner: FlaskCliRunner, db: Database, tmp_path: Path
) -> None:
    secret = tmp_path / "password.txt"
    secret.write_text(PASSWORD + "\nignored second line\n", encoding="utf-8")
    created = runner.invoke(
        args=["users", "create", "审核小刘", "--role", "reviewer", "--password-file", str(secret)]
    )
    assert created.exit_code == 0, created.output
    assert "已新建账号 审核小刘（审核人）" in created.output
    assert verify_password(db, "审核小刘", PASSWORD) is not None
    (record,) = list_audit(db, object_type="user", limit=1)
    assert (record.actor, record.action, record.object_id) == ("cli", "create", "审核小刘")
    listed = runner.invoke(args=["users", "list"])
    assert listed.exit_code == 0
    (line,) = [line for line in listed.output.splitlines() if line.startswith("审核小刘\t")]
    name, role, state, made = line.split("\t")
    assert (role, state) == ("审核人", "正常")
    # Beijing time, as everywhere staff read times: the stored UTC stamp shown in UTC+8.
    stored = db.execute("SELECT created_at FROM users WHERE name = ?", [name]).fetchone()[0]
    beijing = datetime.fromisoformat(stored).astimezone(timezone(timedelta(hours=8)))
    assert made == beijing.strftime("%Y-%m-%d %H:%M")


def test_create_from_standard_input_and_a_prompt(runner: FlaskCliRunner, db: Database) -> None:
    piped = runner.invoke(
        args=["users", "create", "甲", "--role", "editor", "--password-file", "-", "--by", "运维"],
        input=PASSWORD + "\n",
    )
    assert piped.exit_code == 0, piped.output
    prompted = runner.invoke(
        args=["users", "create", "乙", "--role", "admin"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output  # typed, never echoed
    assert get_user(db, "乙").role == "admin"
    assert list_audit(db, object_type="user", action="create", limit=2)[1].actor == "运维"


def test_set_password_disable_and_enable(runner: FlaskCliRunner, db: Database) -> None:
    runner.invoke(
        args=["users", "create", "丙", "--role", "editor", "--password-file", "-"],
        input=PASSWORD + "\n",
    )
    version = get_user(db, "丙").session_version
    changed = runner.invoke(
        args=["users", "set-password", "丙", "--password-file", "-"], input="新的密码也足够长了吧\n"
    )
    assert changed.exit_code == 0 and "所有设备上退出登录" in changed.output
    assert verify_password(db, "丙", "新的密码也足够长了吧") is not None
    assert get_user(db, "丙").session_version > version
    assert runner.invoke(args=["users", "disable", "丙"]).exit_code == 0
    assert get_user(db, "丙").disabled
    assert runner.invoke(args=["users", "enable", "丙"]).exit_code == 0
    assert not get_user(db, "丙").disabled


def test_refusals_are_clear_and_exit_non_zero(runner: FlaskCliRunner) -> None:
    short = runner.invoke(
        args=["users", "create", "丁", "--role", "editor", "--password-file", "-"], input="short\n"
    )
    assert short.exit_code != 0 and "密码至少需要10个字符" in short.output
    role = runner.invoke(args=["users", "create", "丁", "--role", "boss"])
    assert role.exit_code != 0 and "boss" in role.output
    for args in (["set-password", "nobody", "--password-file", "-"], ["disable", "nobody"]):
        missing = runner.invoke(args=["users", *args], input=PASSWORD + "\n")
        assert missing.exit_code != 0 and "没有名为“nobody”的账号" in missing.output
    runner.invoke(
        args=["users", "create", "戊", "--role", "admin", "--password-file", "-"],
        input=PASSWORD + "\n",
    )
    last_admin = runner.invoke(args=["users", "disable", "戊"])
    assert last_admin.exit_code != 0 and "至少要保留一个可用的管理员账号" in last_admin.output
