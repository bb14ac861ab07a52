"""Shared helpers for campaign tests: staff accounts and a campaign ready to send."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlite_utils import Database

from knowledge.residents import resident_key
from knowledge.staff_phones import bind_phone as bind_with_code
from knowledge.staff_phones import issue_binding_code
from knowledge.store import SHANGHAI
from knowledge.users import create_user
from scheduler.campaigns import approve_campaign, create_campaign, submit_campaign

AUTHOR, REVIEWER = "张编辑", "李审核"
#: The OpenID of the author's phone, bound for previews by :func:`bind_phone`.
AUTHOR_PHONE = "oStaffPhone0001"
HASH_SECRET = "test-secret"  # TEST_CONFIG's SECRET_KEY, which hashes resident ids
TEXT = "4月15日是全民国家安全教育日。维护国家安全是每个公民的义务，发现可疑情况请拨打12339举报。"


def add_staff(db: Database) -> None:
    """An editor who writes campaigns and a reviewer who approves them."""
    create_user(db, AUTHOR, "editor", "editor-password-1", by="test")
    create_user(db, REVIEWER, "reviewer", "reviewer-password-1", by="test")


def approved_campaign(
    db: Database, at: datetime | None = None, account_type: str = "subscription", **fields: str
) -> int:
    """A text campaign approved by the reviewer, due at ``at`` (default: in a minute)."""
    moment = at or datetime.now(SHANGHAI) + timedelta(minutes=1)
    campaign_id = create_campaign(
        db,
        title=fields.get("title", "国家安全教育日"),
        text=fields.get("text", TEXT),
        send_at=moment,
        account_type=account_type,
        by=AUTHOR,
    )
    submit_campaign(db, campaign_id, AUTHOR, account_type)
    approve_campaign(db, campaign_id, REVIEWER, account_type)
    return campaign_id


def bind_phone(db: Database, name: str = AUTHOR, openid: str = AUTHOR_PHONE) -> str:
    """Bind ``openid``'s phone to ``name`` for previews as the webhook does; its keyed hash."""
    code = issue_binding_code(db, name)
    confirmation = bind_with_code(db, HASH_SECRET, openid, code.code)
    assert confirmation.startswith("已绑定"), confirmation
    return resident_key(HASH_SECRET, "wx", openid)
