"""Staff accounts (``/admin/users``, admins only): create, change role, reset, disable."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from console.access import require_permission
from knowledge.db import get_db
from knowledge.users import (
    MIN_PASSWORD_LENGTH,
    ROLE_NAMES,
    ROLES,
    User,
    UserError,
    create_user,
    get_user_by_id,
    list_users,
    set_disabled,
    set_password,
    set_role,
)

bp = Blueprint("users", __name__, url_prefix="/users")
log = logging.getLogger(__name__)


def _page(error: str | None = None, status: int = 200, form: dict | None = None) -> tuple[str, int]:
    page = render_template(
        "console/users.html",
        users=list_users(get_db()),
        roles={role: ROLE_NAMES[role] for role in ROLES},
        min_password=MIN_PASSWORD_LENGTH,
        error=error,
        form=form or {},
    )
    return page, status


def _account(user_id: int) -> User:
    account = get_user_by_id(get_db(), user_id) if user_id < 2**63 else None
    if account is None:
        abort(404, description=f"没有编号为 {user_id} 的账号")
    return account


def _refused(error: UserError, form: dict | None = None) -> tuple[str, int]:
    log.info("console: %s's account change refused: %s", current_user.name, error)
    return _page(str(error), 400, form)


@bp.get("")
@require_permission("manage")
def listing() -> tuple[str, int]:
    """Every account with its role and state, and the form for a new one."""
    return _page()


@bp.post("")
@require_permission("manage")
def create() -> Response | tuple[str, int]:
    """Create an account from the form (400 with the reason, the form kept, if refused)."""
    name = request.form.get("name", "")
    role = request.form.get("role", "")
    try:
        create_user(get_db(), name, role, request.form.get("password", ""), by=current_user.name)
    except UserError as error:
        return _refused(error, {"name": name, "role": role})
    log.info("console: %s created account %r (%s)", current_user.name, name.strip(), role)
    flash(f"已新建账号 {name.strip()}（{ROLE_NAMES[role]}）")
    return redirect(url_for("admin.users.listing"))


@bp.post("/<int:user_id>/role")
@require_permission("manage")
def change_role(user_id: int) -> Response | tuple[str, int]:
    """Give the account another role; its sessions end so the new role applies at once."""
    account = _account(user_id)
    role = request.form.get("role", "")
    try:
        set_role(get_db(), account.name, role, by=current_user.name)
    except UserError as error:
        return _refused(error)
    flash(f"{account.name} 的角色现在是{ROLE_NAMES[role]}")
    return redirect(url_for("admin.users.listing"))


@bp.post("/<int:user_id>/password")
@require_permission("manage")
def reset_password(user_id: int) -> Response | tuple[str, int]:
    """Give the account a new password; every session of it ends."""
    account = _account(user_id)
    try:
        set_password(get_db(), account.name, request.form.get("password", ""), by=current_user.name)
    except UserError as error:
        return _refused(error)
    flash(f"已为 {account.name} 设置新密码，该账号已在所有设备上退出登录")
    return redirect(url_for("admin.users.listing"))


@bp.post("/<int:user_id>/disabled")
@require_permission("manage")
def change_disabled(user_id: int) -> Response | tuple[str, int]:
    """Disable (``disabled=1``, ending its sessions) or enable (``disabled=0``) the account."""
    account = _account(user_id)
    wanted = request.form.get("disabled")
    if wanted not in ("0", "1"):
        abort(400, description="请选择停用还是启用")
    try:
        set_disabled(get_db(), account.name, wanted == "1", by=current_user.name)
    except UserError as error:
        return _refused(error)
    flash(f"已{'停用' if wanted == '1' else '启用'}账号 {account.name}")
    return redirect(url_for("admin.users.listing"))
