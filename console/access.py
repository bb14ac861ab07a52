"""Who is signed in and what they may do: Flask-Login sessions, CSRF and role checks.

A session remembers the account's id *and* its ``session_version``: signing out, a password
change, a role change or disabling the account bumps the version in the database, so every
cookie made before stops working in every worker at once. CSRF (Flask-WTF) is checked by
the console's own guard for every POST under ``/admin``; the resident-facing doors (the
webhook, ``/api``, the web chat) are not forms and are never checked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from knowledge.db import get_db
from knowledge.users import ROLE_NAMES, User, get_user_by_id

log = logging.getLogger(__name__)
csrf = CSRFProtect()
login_manager = LoginManager()
View = TypeVar("View", bound=Callable[..., Any])

#: What each permission lets staff do, for the message when their role lacks it.
PERMISSION_NAMES = {"edit": "编辑条目", "review": "审核条目", "manage": "管理账号和设置"}


class StaffMember(UserMixin):
    """The signed-in account, as Flask-Login sees it."""

    def __init__(self, account: User) -> None:
        self.account = account

    @property
    def name(self) -> str:
        """The account's name, as the audit log records it."""
        return self.account.name

    @property
    def role(self) -> str:
        """The account's role key (editor, reviewer, admin)."""
        return self.account.role

    @property
    def role_name(self) -> str:
        """The role as staff read it (编辑, 审核人, 管理员)."""
        return ROLE_NAMES.get(self.account.role, self.account.role)

    def can(self, permission: str) -> bool:
        """Whether this account may do ``permission`` ("edit", "review", "manage")."""
        return self.account.can(permission)

    def get_id(self) -> str:
        """What the session cookie stores: the account id and its session version."""
        return f"{self.account.id}:{self.account.session_version}"


@login_manager.user_loader
def load_staff_member(identity: str) -> StaffMember | None:
    """The account a session names, or None when it is unknown, disabled or its version old."""
    user_id, _, version = str(identity).partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    account = get_user_by_id(get_db(), int(user_id))
    if account is None or account.disabled or account.session_version != int(version):
        log.info("console: session for account %s is no longer valid", user_id)
        return None
    return StaffMember(account)


class SchemeAwareSessionInterface(SecureCookieSessionInterface):
    """Session cookies marked ``Secure`` whenever the request came over HTTPS.

    Behind a TLS-terminating proxy this needs ``PROXY_HOPS`` so the scheme is seen;
    ``SESSION_COOKIE_SECURE = True`` forces it for every request.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        """``Secure`` when configured or when this request is HTTPS."""
        return bool(super().get_cookie_secure(app) or request.is_secure)


def require_permission(permission: str) -> Callable[[View], View]:
    """Decorate a console view so only accounts whose role has ``permission`` may run it (403)."""
    if permission not in PERMISSION_NAMES:
        raise ValueError(f"unknown permission {permission!r}")

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated or not current_user.can(permission):
                name = getattr(current_user, "name", "anonymous")
                log.warning(
                    "console: %s (%s) refused %s %s: needs %s",
                    name,
                    getattr(current_user, "role", "-"),
                    request.method,
                    request.path,
                    permission,
                )
                abort(403, description=f"您的账号没有“{PERMISSION_NAMES[permission]}”的权限。")
            return view(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorate


def init_app(app: Flask) -> None:
    """Sessions, sign-in and CSRF for the console on ``app``."""
    app.session_interface = SchemeAwareSessionInterface()
    # Not sent with requests other sites start, unless configured stricter (HttpOnly is
    # Flask's default already).
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # The console's guard calls csrf.protect() itself: nothing outside /admin is a form.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    # A form stays valid as long as the session: an editor who writes for an hour keeps
    # the text (the session itself ends with signing out, as every session of the account).
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    csrf.init_app(app)
    login_manager.init_app(app)
