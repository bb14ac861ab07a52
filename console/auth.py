"""Signing in and out of the console (``/admin/login``, ``/admin/logout``)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from console.access import StaffMember
from knowledge.db import get_db
from knowledge.signin_attempts import note_signin, signin_wait
from knowledge.store import SHANGHAI
from knowledge.users import end_sessions, verify_password

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

FORM_NAME_LIMIT = 100


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the dashboard — never an open redirect."""
    if not target:
        return url_for("admin.dashboard.overview")
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or parts.scheme
        or parts.netloc
        or any(char.isspace() or ord(char) < 32 for char in target)
    ):
        log.warning("console sign-in: refused redirect target %r", target[:200])
        return url_for("admin.dashboard.overview")
    return target


def _form(
    next_page: str, error: str | None, status: int, name: str = "", headers: dict | None = None
) -> tuple[str, int, dict]:
    page = render_template("console/login.html", next_page=next_page, error=error, name=name)
    return page, status, headers or {}


def retry_message(seconds: int) -> str:
    """The sign-in lockout as staff read it: when (Beijing time) and in how long to retry."""
    until = (datetime.now(SHANGHAI) + timedelta(seconds=seconds)).strftime("%H:%M:%S")
    span = f"{seconds}秒" if seconds < 120 else f"{round(seconds / 60)}分钟"
    return f"登录失败次数太多，请在 {until}（约{span}后）再试"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int, dict]:
    """The sign-in form; POST checks the account's name and password and goes on to ``next``.

    400 without a name or password, 401 when they do not match an enabled account, 429
    while too many failures make this account or address wait (see signin_attempts).
    """
    next_page = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_page)
        return _form(next_page, None, 200)
    name = request.form.get("name", "").strip()[:FORM_NAME_LIMIT]
    password = request.form.get("password", "")
    address = request.remote_addr or "unknown"
    if not name or not password:
        log.info("console sign-in: name or password missing from %s", address)
        return _form(next_page, "请输入用户名和密码", 400, name)
    db = get_db()
    wait = signin_wait(db, name, address)
    if wait.seconds:
        log.warning(
            "console sign-in: %r from %s locked out for %d s (%s)",
            name,
            address,
            wait.seconds,
            wait.reason,
        )
        headers = {"Retry-After": str(wait.seconds)}
        return _form(next_page, retry_message(wait.seconds), 429, name, headers)
    account = verify_password(db, name, password)
    note_signin(db, name, address, succeeded=account is not None)
    if account is None:
        log.warning("console sign-in: wrong password or disabled account %r from %s", name, address)
        return _form(next_page, "用户名或密码不正确（或账号已停用）", 401, name)
    # A fresh session (and CSRF token) for the signed-in account.
    session.clear()
    login_user(StaffMember(account))
    log.info("console: %s signed in from %s", account.name, address)
    return redirect(next_page)


@bp.post("/logout")
def logout() -> Response:
    """Sign out: end every session of this account (on every device) and go to the form."""
    name = current_user.name
    end_sessions(get_db(), name)
    logout_user()
    session.clear()
    log.info("console: %s signed out from %s", name, request.remote_addr)
    flash("您已退出登录")
    return redirect(url_for("admin.auth.login"))
