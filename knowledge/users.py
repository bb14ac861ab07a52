"""Staff accounts: editors draft, reviewers approve (the legality review), admins manage.

Passwords are stored as werkzeug hashes. Each account has a ``session_version``: a
session remembers the version it was made with, and signing out, a password change or
disabling the account bumps it, so every session made before stops working everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlite_utils import Database
from werkzeug.security import check_password_hash, generate_password_hash

from knowledge.audit import record_audit
from knowledge.db import write
from knowledge.store import now

ROLES = ("editor", "reviewer", "admin")
ROLE_NAMES = {"editor": "编辑", "reviewer": "审核人", "admin": "管理员"}
# What each role may do; every view and command checks these on the server.
PERMISSIONS = {
    "editor": frozenset({"edit"}),
    "reviewer": frozenset({"edit", "review"}),
    "admin": frozenset({"edit", "review", "manage"}),
}
MIN_PASSWORD_LENGTH = 10
MAX_NAME_LENGTH = 40


class UserError(ValueError):
    """A request about an account that cannot be carried out; the message is for staff."""


@dataclass(frozen=True)
class User:
    """A staff account as stored (without its password hash)."""

    id: int
    name: str
    role: str
    disabled: bool
    session_version: int
    created_at: str

    def can(self, permission: str) -> bool:
        """Whether this account may do ``permission`` ("edit", "review", "manage")."""
        return not self.disabled and permission in PERMISSIONS.get(self.role, frozenset())


def _user(row: dict) -> User:
    return User(
        id=row["id"],
        name=row["name"],
        role=row["role"],
        disabled=bool(row["disabled"]),
        session_version=row["session_version"],
        created_at=row["created_at"],
    )


@cache
def _unknown_account_hash() -> str:
    """What a sign-in that names no account is checked against (made once, when needed)."""
    return generate_password_hash("no account has this password")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"密码至少需要{MIN_PASSWORD_LENGTH}个字符。")


def get_user(db: Database, name: str) -> User | None:
    """The account called ``name``, or None."""
    rows = list(db["users"].rows_where("name = ?", [name], limit=1))
    return _user(rows[0]) if rows else None


def get_user_by_id(db: Database, user_id: int) -> User | None:
    """The account with id ``user_id``, or None."""
    rows = list(db["users"].rows_where("id = ?", [user_id], limit=1))
    return _user(rows[0]) if rows else None


def list_users(db: Database) -> list[User]:
    """Every account, by name."""
    return [_user(row) for row in db["users"].rows_where(order_by="name")]


def create_user(db: Database, name: str, role: str, password: str, *, by: str) -> User:
    """Create an account; refuses an unknown role, a taken name or a short password."""
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise UserError(f"用户名不能为空，且不超过{MAX_NAME_LENGTH}个字符。")
    if role not in ROLES:
        raise UserError(f"角色只能是 {', '.join(ROLES)} 之一，不能是 {role!r}。")
    _check_password(password)
    with write(db):
        if get_user(db, name) is not None:
            raise UserError(f"用户名“{name}”已经存在。")
        stamp = now()
        db["users"].insert(
            {
                "name": name,
                "role": role,
                "password_hash": generate_password_hash(password),
                "disabled": 0,
                "session_version": 0,
                "created_at": stamp,
                "updated_at": stamp,
            }
        )
        record_audit(db, by, "create", "user", name, f"新建账号 {name}（{ROLE_NAMES[role]}）")
    user = get_user(db, name)
    assert user is not None
    return user


def _require(db: Database, name: str) -> User:
    user = get_user(db, name)
    if user is None:
        raise UserError(f"没有名为“{name}”的账号。")
    return user


def set_password(db: Database, name: str, password: str, *, by: str) -> None:
    """Give ``name`` a new password and end all of its sessions."""
    _check_password(password)
    with write(db):
        _require(db, name)
        db.execute(
            "UPDATE users SET password_hash = ?, session_version = session_version + 1, "
            "updated_at = ? WHERE name = ?",
            [generate_password_hash(password), now(), name],
        )
        record_audit(db, by, "set_password", "user", name, f"修改了 {name} 的密码")


def _keep_an_admin(db: Database, user: User) -> None:
    """Refuse a change that would leave no enabled admin (nobody could manage accounts)."""
    if user.role != "admin" or user.disabled:
        return
    others = db.execute(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id != ?", [user.id]
    ).fetchone()[0]
    if not others:
        raise UserError("至少要保留一个可用的管理员账号：请先让另一个账号成为管理员。")


def set_role(db: Database, name: str, role: str, *, by: str) -> None:
    """Change the role of ``name`` (ending its sessions); the last enabled admin stays admin."""
    if role not in ROLES:
        raise UserError(f"角色只能是 {', '.join(ROLES)} 之一，不能是 {role!r}。")
    with write(db):
        user = _require(db, name)
        if role == user.role:
            return
        if role != "admin":
            _keep_an_admin(db, user)
        db.execute(
            "UPDATE users SET role = ?, session_version = session_version + 1, updated_at = ? "
            "WHERE name = ?",
            [role, now(), name],
        )
        record_audit(
            db,
            by,
            "set_role",
            "user",
            name,
            f"{name} 的角色改为{ROLE_NAMES[role]}",
            before={"role": user.role},
            after={"role": role},
        )


def set_disabled(db: Database, name: str, disabled: bool, *, by: str) -> None:
    """Disable (ending all of its sessions) or re-enable ``name``; never the last admin."""
    with write(db):
        user = _require(db, name)
        if disabled:
            _keep_an_admin(db, user)
        db.execute(
            "UPDATE users SET disabled = ?, session_version = session_version + 1, "
            "updated_at = ? WHERE name = ?",
            [int(disabled), now(), name],
        )
        action = "disable" if disabled else "enable"
        record_audit(db, by, action, "user", name, f"{'停用' if disabled else '启用'}账号 {name}")


def end_sessions(db: Database, name: str) -> None:
    """End every session of ``name`` (what signing out does)."""
    with write(db):
        db.execute("UPDATE users SET session_version = session_version + 1 WHERE name = ?", [name])


def verify_password(db: Database, name: str, password: str) -> User | None:
    """The account when ``name`` exists, is enabled and ``password`` is its password.

    A name that does not exist costs the same hash check, so the time taken does not tell
    which names are accounts.
    """
    rows = list(db["users"].rows_where("name = ?", [name], limit=1))
    stored = rows[0]["password_hash"] if rows else _unknown_account_hash()
    if not check_password_hash(stored, password) or not rows or rows[0]["disabled"]:
        return None
    return _user(rows[0])
