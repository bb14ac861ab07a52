"""``flask users …``: staff accounts from the command line, over :mod:`knowledge.users`."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

import click
from flask.cli import AppGroup

from knowledge.db import get_db
from knowledge.store import local_time
from knowledge.users import (
    MIN_PASSWORD_LENGTH,
    ROLE_NAMES,
    ROLES,
    UserError,
    create_user,
    list_users,
    set_disabled,
    set_password,
)

users = AppGroup("users", help="员工账号：新建、改密码、停用、列出。")
_BY = click.option("--by", default="cli", show_default=True, help="记在操作记录里的操作人。")
_PASSWORD_FILE = click.option(
    "--password-file",
    type=click.File("r", encoding="utf-8"),
    help="从文件读密码（第一行；“-”为标准输入）；不给则提示输入。",
)


def read_password(source: IO[str] | None) -> str:
    """The password from the first line of ``source``, or typed twice at a hidden prompt."""
    if source is None:
        return click.prompt(
            f"密码（至少{MIN_PASSWORD_LENGTH}个字符）", hide_input=True, confirmation_prompt=True
        )
    return source.readline().rstrip("\r\n")


def _run(action: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    try:
        action(get_db(), *args, **kwargs)
    except UserError as error:
        raise click.ClickException(str(error)) from error


@users.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True, help="编辑、审核人或管理员。")
@_PASSWORD_FILE
@_BY
def create_command(name: str, role: str, password_file: IO[str] | None, by: str) -> None:
    """Create the account NAME with a role and a password."""
    _run(create_user, name, role, read_password(password_file), by=by)
    click.echo(f"已新建账号 {name.strip()}（{ROLE_NAMES[role]}）")


@users.command("set-password")
@click.argument("name")
@_PASSWORD_FILE
@_BY
def set_password_command(name: str, password_file: IO[str] | None, by: str) -> None:
    """Give NAME a new password; every session of NAME ends."""
    _run(set_password, name, read_password(password_file), by=by)
    click.echo(f"已修改 {name} 的密码，该账号已在所有设备上退出登录")


@users.command("disable")
@click.argument("name")
@_BY
def disable_command(name: str, by: str) -> None:
    """Disable NAME: it can no longer sign in and its sessions end."""
    _run(set_disabled, name, True, by=by)
    click.echo(f"已停用账号 {name}")


@users.command("enable")
@click.argument("name")
@_BY
def enable_command(name: str, by: str) -> None:
    """Enable NAME again."""
    _run(set_disabled, name, False, by=by)
    click.echo(f"已启用账号 {name}")


@users.command("list")
def list_command() -> None:
    """List every account: name, role, whether it is disabled, when it was made (Beijing time)."""
    for user in list_users(get_db()):
        state = "已停用" if user.disabled else "正常"
        click.echo(
            f"{user.name}\t{ROLE_NAMES.get(user.role, user.role)}\t{state}\t{local_time(user.created_at)}"
        )
