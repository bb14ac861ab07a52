"""Staff phones bound for campaign previews, by a one-time code sent from WeChat.

A preview puts unreviewed text on a phone, so it goes only to a phone its staff member
bound on purpose. The console shows a short code (single use, minutes to live); the staff
member sends exactly that code to the official account from WeChat; the webhook binds the
sender to the account. The binding keeps the staff member's raw OpenID — their own,
consented id, needed to address a preview — beside its keyed hash; residents' ids are
never kept raw anywhere.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from dataclasses import dataclass

from sqlite_utils import Database

from knowledge.audit import record_audit
from knowledge.db import write
from knowledge.residents import resident_key
from knowledge.store import now
from knowledge.users import get_user

log = logging.getLogger(__name__)
CODE_TTL_SECONDS = 600
#: No 0/O, 1/I/L: the code is read off a screen and typed on a phone.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE = re.compile(r"PF-?([2-9A-HJKMNP-Z]{4})-?([2-9A-HJKMNP-Z]{4})")


@dataclass(frozen=True)
class BindingCode:
    """A code issued to a staff member, and when it stops working (Unix time)."""

    code: str
    expires_at: float


@dataclass(frozen=True)
class StaffPhone:
    """A staff member's bound phone: the OpenID previews go to, and its keyed hash."""

    name: str
    openid: str
    resident: str
    bound_at: str


def issue_binding_code(db: Database, name: str, ttl: float = CODE_TTL_SECONDS) -> BindingCode:
    """A new one-time code for ``name``'s account; any code issued to it before stops working."""
    random_part = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    code = BindingCode(f"PF-{random_part[:4]}-{random_part[4:]}", time.time() + ttl)
    with write(db):
        db.execute(
            "DELETE FROM staff_phone_codes WHERE name = ? OR expires_at < ?", [name, time.time()]
        )
        db["staff_phone_codes"].insert(
            {"code": code.code, "name": name, "issued_at": now(), "expires_at": code.expires_at}
        )
        record_audit(db, name, "phone_code", "staff_phone", name, "生成了预览手机的绑定码")
    return code


def binding_code(text: str) -> str | None:
    """The binding code ``text`` is exactly (spaces and case forgiven), or None; reads nothing."""
    match = _CODE.fullmatch(re.sub(r"\s+", "", text).upper())
    return f"PF-{match[1]}-{match[2]}" if match else None


def bind_phone(db: Database, secret: str, openid: str, code: str) -> str:
    """Bind ``openid`` (the sender) to the account ``code`` was issued to; the reply to send.

    Called inside the webhook's one write for the message (``bot.responder.record``).

    A pending code of an enabled account is used up and binds; an unknown, expired or
    disabled account's code gets a reply saying so and binds nothing.
    """
    with write(db):
        row = db.execute(
            "SELECT name, expires_at FROM staff_phone_codes WHERE code = ?", [code]
        ).fetchone()
        account = get_user(db, row[0]) if row is not None else None
        if row is None or row[1] < time.time() or account is None or not account.can("edit"):
            log.info("staff phone binding refused: unknown, expired or disabled code")
            return (
                "这个绑定码无效或已过期。请在员工后台“我的账号”页重新生成，"
                f"{CODE_TTL_SECONDS // 60}分钟内发送。"
            )
        name = account.name
        db.execute("DELETE FROM staff_phone_codes WHERE code = ?", [code])
        db["staff_phones"].upsert(
            {
                "name": name,
                "openid": openid,
                "resident": resident_key(secret, "wx", openid),
                "bound_at": now(),
            },
            pk="name",
        )
        record_audit(db, name, "phone_bind", "staff_phone", name, "从微信绑定了预览手机")
    log.info("staff phone bound for previews to account %s", name)
    return (
        f"已绑定：这部手机将收到工作人员账号“{name}”请求的群发预览。"
        "如需解除，请在员工后台“我的账号”页操作。"
    )


def bound_phone(db: Database, name: str) -> StaffPhone | None:
    """The phone ``name`` bound for previews, or None."""
    rows = list(db["staff_phones"].rows_where("name = ?", [name], limit=1))
    return StaffPhone(**rows[0]) if rows else None


def unbind_phone(db: Database, name: str) -> bool:
    """Forget ``name``'s bound phone (and any pending code); whether one was bound."""
    with write(db):
        db.execute("DELETE FROM staff_phone_codes WHERE name = ?", [name])
        found = db.execute("DELETE FROM staff_phones WHERE name = ?", [name]).rowcount > 0
        if found:
            record_audit(db, name, "phone_unbind", "staff_phone", name, "解除了预览手机的绑定")
    return found
