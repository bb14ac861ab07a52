"""Campaigns: a mass send (群发) planned for a publicity day, approved, then sent once.

Status: draft → in_review → approved → sending → sent, or failed / missed / cancelled.
Every change is one write transaction with its line in the audit log, and bumps the
campaign generation the scheduler process polls. Approval is the legality review: only a
reviewer who neither wrote, changed nor submitted the campaign (its *contributors*,
:mod:`scheduler.campaign_versions`). A change of content to a campaign in review or
approved sends it back to draft; a change of send time alone keeps its review. Cancelling
an approved campaign is for reviewers, admins and its author. Quotas follow the configured account type —
a 订阅号 (``subscription``) sends one mass message a day, a 服务号 (``service``) four a
calendar month — and scheduling past them is refused naming the campaign in the way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from knowledge.audit import record_audit
from knowledge.db import write
from knowledge.store import SHANGHAI, now
from knowledge.users import get_user
from scheduler.campaign_versions import (
    content_of,
    contributors,
    latest_version_id,
    record_contributor,
    record_version,
)

STATUSES = ("draft", "in_review", "approved", "sending", "sent", "failed", "missed", "cancelled")
STATUS_NAMES = {
    "draft": "草稿",
    "in_review": "待审核",
    "approved": "已批准",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "发送失败",
    "missed": "已错过",
    "cancelled": "已取消",
}
ACCOUNT_TYPES = {"subscription": "订阅号", "service": "服务号"}
#: Campaigns that hold (or will use) a mass-send slot of the quota.
SCHEDULED = ("in_review", "approved", "sending", "sent")
#: Campaigns whose content or send time may still change.
EDITABLE = ("draft", "in_review", "approved")
MAX_TEXT_CHARS = 300  # 群发文字上限：300个字符或300个汉字 (WeChat's FAQ)
MAX_TITLE_BYTES = 64  # 群发图文消息的标题上限为64个字节
MAX_DIGEST_CHARS = 120
MAX_COVER_BYTES = 1024 * 1024  # media/uploadimg takes jpg/png up to 1 MB
SERVICE_MONTHLY_SENDS = 4
AUTHOR_FROM_CLI = "命令行"


class CampaignError(ValueError):
    """A campaign change that cannot be made; the message is for staff."""


@dataclass(frozen=True)
class Campaign:
    """A campaign as stored."""

    id: int
    title: str
    kind: str
    text: str
    digest: str
    body: str
    cover_path: str
    tag_id: int | None
    send_at: datetime
    day_key: str
    status: str
    author: str
    reviewer: str
    created_at: str
    updated_at: str
    claim_owner: str
    claim_until: float
    attempts: int
    msg_id: str
    error_code: int | None
    error_message: str
    sent_at: str
    result_status: str
    result_total: int | None
    result_filtered: int | None
    result_sent: int | None
    result_errors: int | None
    reviewed_version: int | None

    @property
    def status_name(self) -> str:
        """The status as staff read it."""
        return STATUS_NAMES.get(self.status, self.status)

    @property
    def audience(self) -> str:
        """Who receives it, as staff read it."""
        return "全部关注者" if self.tag_id is None else f"标签 {self.tag_id}"

    @property
    def delivery_unconfirmed(self) -> bool:
        """Sent, but WeChat's count of who received it never arrived (e.g. after a 45065)."""
        return self.status == "sent" and not self.result_status

    @property
    def clientmsgid(self) -> str:
        """The id WeChat dedups repeats of this send by (within 24 hours: 45065)."""
        digest = hashlib.sha256(f"{self.id}|{self.created_at}|{self.title}".encode()).hexdigest()
        return f"pufa-{self.id}-{digest[:16]}"


def _campaign(row: dict[str, Any]) -> Campaign:
    values = {name: row.get(name) for name in Campaign.__dataclass_fields__}
    for name in ("text", "digest", "body", "cover_path", "day_key", "reviewer", "claim_owner"):
        values[name] = values[name] or ""
    for name in ("msg_id", "error_message", "sent_at", "result_status", "updated_at"):
        values[name] = values[name] or ""
    values["claim_until"] = values["claim_until"] or 0.0
    values["attempts"] = values["attempts"] or 0
    values["send_at"] = datetime.fromisoformat(row["send_at"])
    return Campaign(**values)


def parse_send_time(text: str) -> datetime:
    """``YYYY-MM-DD HH:MM`` in Beijing time (Asia/Shanghai) as an aware datetime."""
    try:
        moment = datetime.strptime(text.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise CampaignError(
            f"发送时间“{text}”无效，请写成 2027-04-15 09:00（北京时间）。"
        ) from None
    return moment.replace(tzinfo=SHANGHAI)


def _stored_time(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def get_campaign(db: Database, campaign_id: int) -> Campaign | None:
    """The campaign with id ``campaign_id``, or None."""
    rows = list(db["campaigns"].rows_where("id = ?", [campaign_id], limit=1))
    return _campaign(rows[0]) if rows else None


def list_campaigns(
    db: Database, status: str | None = None, year: int | None = None
) -> list[Campaign]:
    """Campaigns by send time, optionally of one status or one year (Beijing time)."""
    clauses, params = [], []
    if status:
        clauses.append("status = ?")
        params.append(status)
    if year:
        clauses.append("substr(send_at, 1, 4) = ?")
        params.append(str(year))
    rows = db["campaigns"].rows_where(" AND ".join(clauses) or None, params, order_by="send_at, id")
    return [_campaign(row) for row in rows]


def campaign_generation(db: Database) -> int:
    """A number that grows whenever any campaign changes (the scheduler polls it)."""
    row = db.execute("SELECT value FROM scheduler_state WHERE key = 'generation'").fetchone()
    return row[0] if row else 0


def bump_campaign_generation(db: Database) -> None:
    """Tell the scheduler process that campaigns changed (inside the change's transaction)."""
    db.execute(
        "INSERT INTO scheduler_state (key, value) VALUES ('generation', 1) "
        "ON CONFLICT(key) DO UPDATE SET value = value + 1"
    )


def _check_content(
    kind: str, title: str, text: str, digest: str, body: str, cover_path: str
) -> None:
    if not title.strip():
        raise CampaignError("标题不能为空。")
    if len(title.encode("utf-8")) > MAX_TITLE_BYTES:
        size = len(title.encode("utf-8"))
        raise CampaignError(
            f"标题有{size}个字节，超过微信的{MAX_TITLE_BYTES}字节上限（一个汉字占3个字节，"
            f"约21个汉字）。"
        )
    if kind == "text":
        if not text.strip():
            raise CampaignError("群发文字不能为空。")
        if len(text) > MAX_TEXT_CHARS:
            raise CampaignError(
                f"群发文字有{len(text)}个字，超过微信的{MAX_TEXT_CHARS}字上限；请删减，或改发图文。"
            )
        return
    if kind != "article":
        raise CampaignError(f"未知的群发类型“{kind}”。")
    if not body.strip():
        raise CampaignError("图文正文不能为空。")
    if len(digest) > MAX_DIGEST_CHARS:
        raise CampaignError(f"摘要超过{MAX_DIGEST_CHARS}个字。")
    cover = Path(cover_path)
    if not cover_path or not cover.is_file():
        raise CampaignError(f"找不到封面图片“{cover_path}”。")
    if cover.suffix.lower() not in (".jpg", ".jpeg", ".png"):
        raise CampaignError("封面图片须为 jpg 或 png 格式。")
    if cover.stat().st_size > MAX_COVER_BYTES:
        raise CampaignError("封面图片超过1MB，请压缩后再上传。")


def quota_conflict(
    db: Database,
    account_type: str,
    send_at: datetime,
    exclude_id: int | None = None,
    statuses: tuple[str, ...] = SCHEDULED,
) -> list[Campaign]:
    """The campaigns (of ``statuses``) that leave no mass-send slot for one more at ``send_at``.

    Empty when there is room: a 订阅号 has one a (Beijing) day, a 服务号 four a month.
    """
    if account_type not in ACCOUNT_TYPES:
        raise CampaignError(
            f"WECHAT_ACCOUNT_TYPE 须为 subscription（订阅号）或 service（服务号），"
            f"而不是“{account_type}”。"
        )
    local = send_at.astimezone(SHANGHAI)
    prefix = local.strftime("%Y-%m-%d" if account_type == "subscription" else "%Y-%m")
    marks = ",".join("?" * len(statuses))
    rows = db.execute(
        f"SELECT * FROM campaigns WHERE status IN ({marks}) AND substr(send_at, 1, ?) = ? "
        "AND id != ? ORDER BY send_at, id",
        [*statuses, len(prefix), prefix, exclude_id or 0],
    ).fetchall()
    columns = [d[0] for d in db.execute("SELECT * FROM campaigns LIMIT 0").description]
    found = [_campaign(dict(zip(columns, row, strict=True))) for row in rows]
    limit = 1 if account_type == "subscription" else SERVICE_MONTHLY_SENDS
    return found if len(found) >= limit else []


def quota_message(account_type: str, conflicts: list[Campaign]) -> str:
    """Why a campaign cannot be scheduled, naming the campaigns in the way."""
    named = "、".join(
        f"#{c.id}「{c.title}」（{c.send_at.strftime('%Y-%m-%d %H:%M')}，{c.status_name}）"
        for c in conflicts
    )
    # Only what has not gone out yet can still be cancelled to free the slot.
    pending = [c for c in conflicts if c.status in ("in_review", "approved")]
    if account_type == "subscription":
        way_out = "请换一天，或先取消它。" if pending else "它已发出，请换一天。"
        return f"订阅号每天只能群发一次，这一天已安排了 {named}。{way_out}"
    if not pending:
        way_out = "它们已发出，请换到下个月。"
    elif len(pending) == len(conflicts):
        way_out = "请换到下个月，或先取消其中一个。"
    else:
        way_out = "请换到下个月，或先取消其中尚未发出的一个。"
    return f"服务号每个自然月只能群发{SERVICE_MONTHLY_SENDS}次，这个月已安排了 {named}。{way_out}"


def _check_quota(db: Database, account_type: str, send_at: datetime, exclude: int | None) -> None:
    conflicts = quota_conflict(db, account_type, send_at, exclude)
    if conflicts:
        raise CampaignError(quota_message(account_type, conflicts))


def _actor(db: Database, name: str | None, permission: str) -> str:
    if name is None and permission == "edit":
        return AUTHOR_FROM_CLI
    if not name:
        raise CampaignError("请写明操作人（--by 工作人员账号名）。")
    user = get_user(db, name)
    if user is None:
        raise CampaignError(f"没有名为“{name}”的工作人员账号。")
    if not user.can(permission):
        action = {"edit": "编写群发", "review": "审核群发"}[permission]
        raise CampaignError(f"“{name}”的账号没有{action}的权限。")
    return user.name


def create_campaign(
    db: Database,
    *,
    title: str,
    send_at: datetime,
    account_type: str,
    by: str | None,
    text: str = "",
    article: dict[str, str] | None = None,
    tag_id: int | None = None,
    day_key: str = "",
) -> int:
    """Create a draft campaign: text, or ``article`` (digest, body, cover_path); its id.

    ``by`` must be an account that may edit (None: the command line, recorded as such).
    """
    author = _actor(db, by, "edit")
    kind = "article" if article else "text"
    article = article or {}
    digest, body, cover = (
        article.get("digest", ""),
        article.get("body", ""),
        article.get("cover_path", ""),
    )
    _check_content(kind, title, text, digest, body, cover)
    if send_at.tzinfo is None:
        raise CampaignError("发送时间须带时区。")
    if send_at <= datetime.now(SHANGHAI):
        raise CampaignError("发送时间已经过去，请选一个将来的时间。")
    if tag_id is not None and tag_id < 0:
        raise CampaignError("标签编号无效。")
    stamp = now()
    row = {
        "title": title.strip(),
        "kind": kind,
        "text": text,
        "digest": digest,
        "body": body,
        "cover_path": str(cover),
        "tag_id": tag_id,
        "send_at": _stored_time(send_at),
        "day_key": day_key,
        "status": "draft",
        "author": author,
        "created_at": stamp,
        "updated_at": stamp,
        "attempts": 0,
    }
    with write(db):
        _check_quota(db, account_type, send_at, None)
        campaign_id = db["campaigns"].insert(row).last_pk
        record_contributor(db, campaign_id, author, "wrote")
        record_version(db, campaign_id, author, row)
        record_audit(db, author, "create", "campaign", campaign_id, row["title"], after=row)
        bump_campaign_generation(db)
    return int(campaign_id)


def update_campaign(
    db: Database,
    campaign_id: int,
    *,
    by: str,
    account_type: str,
    title: str,
    text: str,
    send_at: datetime,
    tag_id: int | None,
    article: dict[str, str] | None = None,
) -> Campaign:
    """Change a campaign's content (title, text or ``article``, audience) or send time.

    Only a campaign not yet sending can change. A change of content makes ``by`` one of its
    contributors and sends a campaign in review or approved back to draft (its approval
    cleared); a change of send time alone keeps its review and is audited as such.
    """
    actor = _actor(db, by, "edit")
    with write(db):
        campaign = get_campaign(db, campaign_id)
        if campaign is None:
            raise CampaignError(f"没有编号为 {campaign_id} 的群发。")
        if campaign.status not in EDITABLE:
            raise CampaignError(f"群发 #{campaign_id} 现在是“{campaign.status_name}”，已不能修改。")
        before = content_of(campaign.__dict__)
        after = {
            **before,
            "title": title.strip(),
            "tag_id": tag_id,
            **({"text": text} if campaign.kind == "text" else {}),
            **{k: v for k, v in (article or {}).items() if k in ("digest", "body", "cover_path")},
        }
        _check_content(
            campaign.kind,
            after["title"],
            after["text"] if campaign.kind == "text" else "",
            after["digest"],
            after["body"],
            after["cover_path"],
        )
        content_changed = after != before
        if send_at == campaign.send_at and not content_changed:
            return campaign
        if send_at <= datetime.now(SHANGHAI):
            raise CampaignError("发送时间已经过去，请选一个将来的时间。")
        if send_at != campaign.send_at:
            _check_quota(db, account_type, send_at, campaign_id)
        changes: dict[str, Any] = {**after, "send_at": _stored_time(send_at), "updated_at": now()}
        summary = changes["title"]
        if content_changed:
            record_contributor(db, campaign_id, actor, "changed")
            record_version(db, campaign_id, actor, after)
            if campaign.status != "draft":
                changes.update(status="draft", reviewer=None)
                summary += f"：内容已修改，{campaign.status_name} → 草稿，须重新提交审核"
        else:
            summary += f"：发送时间改为 {send_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"
        db["campaigns"].update(campaign_id, changes)
        record_audit(
            db,
            actor,
            "edit" if content_changed else "reschedule",
            "campaign",
            campaign_id,
            summary,
            before={
                **before,
                "send_at": _stored_time(campaign.send_at),
                "status": campaign.status,
            },
            after=changes,
        )
        bump_campaign_generation(db)
    updated = get_campaign(db, campaign_id)
    assert updated is not None
    return updated


def _transition(
    db: Database,
    campaign_id: int,
    actor: str,
    action: str,
    allowed_from: tuple[str, ...],
    to: str,
    extra: dict[str, Any] | None = None,
    check: Any = None,
) -> Campaign:
    with write(db):
        campaign = get_campaign(db, campaign_id)
        if campaign is None:
            raise CampaignError(f"没有编号为 {campaign_id} 的群发。")
        if campaign.status not in allowed_from:
            allowed = "、".join(STATUS_NAMES[s] for s in allowed_from)
            raise CampaignError(
                f"群发 #{campaign_id} 现在是“{campaign.status_name}”，只有{allowed}的群发才能这样操作。"
            )
        if check is not None:
            check(campaign)
        changes = {"status": to, "updated_at": now(), **(extra or {})}
        db["campaigns"].update(campaign_id, changes)
        record_audit(
            db,
            actor,
            action,
            "campaign",
            campaign_id,
            f"{campaign.title}：{campaign.status_name} → {STATUS_NAMES[to]}",
            before={"status": campaign.status},
            after=changes,
        )
        bump_campaign_generation(db)
    updated = get_campaign(db, campaign_id)
    assert updated is not None
    return updated


def submit_campaign(db: Database, campaign_id: int, by: str, account_type: str) -> Campaign:
    """Send a draft to review (quota checked again); ``by`` becomes a contributor."""
    actor = _actor(db, by, "edit")

    def check(campaign: Campaign) -> None:
        _check_quota(db, account_type, campaign.send_at, campaign.id)
        record_contributor(db, campaign.id, actor, "submitted")

    return _transition(db, campaign_id, actor, "submit", ("draft",), "in_review", check=check)


def approve_campaign(db: Database, campaign_id: int, by: str, account_type: str) -> Campaign:
    """Approve a campaign in review: only a reviewer who is none of its contributors.

    The quota is checked again; the approval is tied to the version approved.
    """
    actor = _actor(db, by, "review")

    def check(campaign: Campaign) -> None:
        parts = contributors(db, campaign.id).get(actor)
        if parts:
            raise CampaignError(
                f"不能审核自己编写、修改或提交过的群发（你{'、'.join(parts)}过它），"
                "请另一位审核人审核。"
            )
        _check_quota(db, account_type, campaign.send_at, campaign.id)

    return _transition(
        db,
        campaign_id,
        actor,
        "approve",
        ("in_review",),
        "approved",
        {"reviewer": actor, "reviewed_version": latest_version_id(db, campaign_id)},
        check,
    )


def return_campaign(db: Database, campaign_id: int, by: str) -> Campaign:
    """Send a campaign in review back to its author as a draft (a reviewer's call)."""
    actor = _actor(db, by, "review")
    return _transition(
        db,
        campaign_id,
        actor,
        "return",
        ("in_review",),
        "draft",
        {"reviewed_version": latest_version_id(db, campaign_id)},
    )


def cancel_campaign(db: Database, campaign_id: int, by: str) -> Campaign:
    """Cancel a campaign that has not started sending.

    An approved campaign only by a reviewer, an admin or its author: an editor cannot
    undo someone else's reviewed send.
    """
    actor = _actor(db, by, "edit")
    account = get_user(db, actor)
    may_cancel_approved = account is None or account.can("review")

    def check(campaign: Campaign) -> None:
        if campaign.status == "approved" and not may_cancel_approved and actor != campaign.author:
            raise CampaignError(
                "已批准的群发只能由审核人、管理员或它的编写人取消；如需取消请联系他们。"
            )

    return _transition(
        db,
        campaign_id,
        actor,
        "cancel",
        ("draft", "in_review", "approved"),
        "cancelled",
        check=check,
    )
