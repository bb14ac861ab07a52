"""Sending a campaign exactly once, whatever crashes, restarts or second schedulers do.

1. **Claim** in one ``BEGIN IMMEDIATE`` transaction: approved (or ``sending`` whose claim
   lease ran out — its process died) → ``sending``, with this process as claim owner and
   a lease. Only one process wins; the others see ``sending`` and leave it alone.
2. **Send** with a ``clientmsgid`` derived from the campaign. WeChat refuses a repeat
   within 24 hours with 45065; so a process that died after WeChat accepted the send but
   before the result was stored resends after restart, gets 45065, and records the
   campaign as sent — no follower gets it twice.
3. **Record** WeChat's msg_id (status ``sent``); the MASSSENDJOBFINISH event later fills
   in the counts (:func:`record_job_finish`). A send recorded from a 45065 has no msg_id:
   the event is matched to it when it is the only such send in the hour before the event
   (or the one unknown event of the hour before, if it came first), else the console shows
   "已发送，送达数未确认".

Transient errors (-1 system busy, 45011 per-minute limit, 45066 same id too fast, network
errors and timeouts) are retried with doubling delays a bounded number of times; any other
errcode is permanent: the campaign is ``failed`` with WeChat's code and what staff can do.
Campaigns due while no scheduler ran are sent within the grace window, else ``missed``.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlite_utils import Database

from bot.wechat.api import WeChatAPI, WeChatAPIError
from knowledge.audit import record_audit
from knowledge.db import write
from knowledge.staff_phones import bound_phone
from knowledge.store import SHANGHAI, now
from knowledge.users import get_user
from scheduler.campaigns import (
    Campaign,
    CampaignError,
    bump_campaign_generation,
    get_campaign,
    quota_conflict,
    quota_message,
)

log = logging.getLogger(__name__)

SCHEDULER = "定时发送"
TRANSIENT_CODES = {-1, 45011, 45066}
ALREADY_SENT = 45065
MAX_PREVIEWS_PER_STAFF = 20  # a Beijing day, to one staff member's bound phone
MAX_PREVIEWS_PER_CAMPAIGN = 5  # a Beijing day, of one campaign
#: A count in a MASSSENDJOBFINISH event: ASCII digits only ("²".isdigit() is true), at most 10.
_COUNT = re.compile(r"[0-9]{1,10}")
#: How long before a job-finish event a send confirmed only by 45065 may have gone out.
UNCONFIRMED_MATCH_WINDOW = timedelta(hours=1)
#: What staff can do about WeChat's permanent refusals.
EXPLANATIONS = {
    45009: "今天（或本月）的群发次数已用完。请在公众号后台核对群发记录，改天再安排。",
    45028: "公众号没有群发额度（订阅号每天1次、服务号每月4次已用完）。",
    48001: "公众号没有调用群发接口的权限。群发接口需要微信认证，请在公众号后台完成认证。",
    40007: "图文素材无效或已被删除。请重新上传封面并保存后再提交审核。",
    40003: "接收预览的手机已不是本公众号的关注者（OpenID 无效）。请关注公众号后重新绑定手机。",
    40050: "标签编号无效。请用 flask campaigns tags 查看本公众号现有的标签。",
    45002: "群发内容超过微信的长度上限，请删减后重新提交。",
    45065: "微信已在24小时内收到过同一群发（重复发送已被拦截）。",
    45067: "群发编号过长（系统错误），请联系技术人员。",
}
PROTECTION_HINT = (
    "若公众号开启了「API群发保护」（设置-安全中心-风险操作保护），"
    "须管理员在30分钟内确认，拒绝或超时都会使群发失败。"
)


@dataclass(frozen=True)
class SendSettings:
    """How the sender behaves, from the app's configuration."""

    account_type: str
    grace: float
    lease: float
    retries: int
    retry_delay: float
    pause_dir: str = ""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SendSettings:
        """Read the settings from ``app.config``."""
        return cls(
            account_type=config["WECHAT_ACCOUNT_TYPE"],
            grace=float(config["SCHEDULER_GRACE_SECONDS"]),
            lease=float(config["SCHEDULER_CLAIM_LEASE"]),
            retries=int(config["SCHEDULER_RETRIES"]),
            retry_delay=float(config["SCHEDULER_RETRY_DELAY"]),
            pause_dir=str(config.get("SCHEDULER_PAUSE_DIR") or ""),
        )


def new_owner() -> str:
    """A claim owner name unique to this process: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def explain(errcode: int | None, errmsg: str = "") -> str:
    """A Chinese explanation of a WeChat error code that staff can act on."""
    if errcode in EXPLANATIONS:
        return EXPLANATIONS[errcode]
    if errcode is None or errcode in TRANSIENT_CODES:
        return (
            "多次重试后仍无法连接微信服务器或微信系统繁忙，未能确认已发出。请检查网络后重新安排。"
        )
    return f"微信拒绝了这次群发（错误码 {errcode}：{errmsg}）。{PROTECTION_HINT}"


def _pause(settings: SendSettings, point: str, campaign_id: int) -> None:
    """Test hook: announce ``point`` and wait for the test's go-ahead file (bounded)."""
    if not settings.pause_dir:
        return
    folder = Path(settings.pause_dir)
    reached = folder / f"{point}.reached"
    if reached.exists():
        return  # each pause happens once per test
    reached.write_text(f"{os.getpid()} {campaign_id}", encoding="utf-8")
    deadline = time.monotonic() + 60
    while not (folder / f"{point}.go").exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _finish(
    db: Database,
    campaign_id: int,
    status: str,
    note: str,
    changes: dict[str, Any],
    only_from: tuple[str, ...] = ("sending",),
) -> bool:
    with write(db):
        campaign = get_campaign(db, campaign_id)
        if campaign is None or campaign.status not in only_from:
            return False
        update = {"status": status, "updated_at": now(), **changes}
        db["campaigns"].update(campaign_id, update)
        if changes.get("msg_id"):
            _apply_waiting_result(db, campaign_id, changes["msg_id"])
        elif changes.get("error_code") == ALREADY_SENT:
            _adopt_result_of_the_hour(db, campaign_id)
        record_audit(
            db,
            SCHEDULER,
            status,
            "campaign",
            campaign_id,
            f"{campaign.title}：{note}",
            before={"status": campaign.status},
            after=update,
        )
        bump_campaign_generation(db)
    return True


def claim(
    db: Database, campaign_id: int, owner: str, settings: SendSettings, at: float | None = None
) -> Campaign | None:
    """Claim the campaign for sending now, or None (not due, or another process has it).

    A campaign past its grace window is marked missed (or failed, if a send was
    interrupted and cannot be confirmed) instead; one over the quota is failed.
    """
    moment = time.time() if at is None else at
    with write(db):
        campaign = get_campaign(db, campaign_id)
        if campaign is None or campaign.send_at.timestamp() > moment:
            return None
        interrupted = campaign.status == "sending" and campaign.claim_until < moment
        if campaign.status != "approved" and not interrupted:
            return None
        late = moment - campaign.send_at.timestamp() > settings.grace
        if late and not interrupted:
            _finish(
                db, campaign_id, "missed", "发送时间已过且超出补发时限，未发送", {}, ("approved",)
            )
            log.warning(
                "campaign %d missed: due %s, no scheduler ran", campaign_id, campaign.send_at
            )
            return None
        if late:
            _finish(
                db,
                campaign_id,
                "failed",
                "发送中断且超出补发时限",
                {
                    "error_message": "发送过程中断，超出补发时限，无法确认是否已发出。"
                    "请在公众号后台「发表记录」核对。"
                },
            )
            return None
        conflicts = quota_conflict(
            db, settings.account_type, campaign.send_at, campaign.id, ("sending", "sent")
        )
        if conflicts and not interrupted:
            message = quota_message(settings.account_type, conflicts)
            _finish(
                db,
                campaign_id,
                "failed",
                "群发次数已用完",
                {"error_message": message},
                ("approved",),
            )
            return None
        db["campaigns"].update(
            campaign_id,
            {
                "status": "sending",
                "claim_owner": owner,
                "claim_until": moment + settings.lease,
                "attempts": campaign.attempts + 1,
                "updated_at": now(),
            },
        )
        record_audit(
            db,
            SCHEDULER,
            "claim",
            "campaign",
            campaign_id,
            f"{campaign.title}：开始发送（{owner}）"
            + ("，上次发送中断后重试" if interrupted else ""),
            before={"status": campaign.status},
            after={"status": "sending", "claim_owner": owner},
        )
        bump_campaign_generation(db)
    return get_campaign(db, campaign_id)


def _renew_lease(db: Database, campaign_id: int, owner: str, lease: float) -> None:
    with write(db):
        db.execute(
            "UPDATE campaigns SET claim_until = ? WHERE id = ? AND status = 'sending' "
            "AND claim_owner = ?",
            [time.time() + lease, campaign_id, owner],
        )


def mass_message(api: WeChatAPI, campaign: Campaign) -> dict[str, Any]:
    """The message body of a mass send or preview (uploading an article's images first)."""
    if campaign.kind == "text":
        return {"msgtype": "text", "text": {"content": campaign.text}}
    cover = Path(campaign.cover_path)
    cover_url = api.upload_image(cover)
    thumb = api.add_image_material(cover)
    paragraphs = "".join(f"<p>{_escape(line)}</p>" for line in campaign.body.splitlines() if line)
    article = {
        "title": campaign.title,
        "digest": campaign.digest,
        "content": f'<p><img src="{cover_url}"/></p>{paragraphs}',
        "thumb_media_id": thumb,
        "need_open_comment": 0,
    }
    return {"msgtype": "mpnews", "mpnews": {"media_id": api.add_draft([article])}}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send_campaign(
    db: Database, api: WeChatAPI, campaign_id: int, owner: str, settings: SendSettings
) -> str | None:
    """Claim and send the campaign if it is due; its new status, or None if not ours to send."""
    campaign = claim(db, campaign_id, owner, settings)
    if campaign is None:
        current = get_campaign(db, campaign_id)
        return (
            None if current is None or current.status in ("approved", "sending") else current.status
        )
    _pause(settings, "claimed", campaign_id)
    delay = settings.retry_delay
    last: WeChatAPIError | None = None
    for attempt in range(settings.retries + 1):
        _renew_lease(db, campaign_id, owner, settings.lease)
        try:
            message = mass_message(api, campaign)
            answer = api.mass_send(message, campaign.tag_id, campaign.clientmsgid)
        except WeChatAPIError as error:
            last = error
            if error.errcode == ALREADY_SENT:
                _pause(settings, "sent", campaign_id)
                _finish(
                    db,
                    campaign_id,
                    "sent",
                    "微信确认此前已发出（45065）",
                    {
                        "sent_at": now(),
                        "error_code": ALREADY_SENT,
                        "error_message": EXPLANATIONS[ALREADY_SENT],
                    },
                )
                log.info("campaign %d: WeChat already has this send (45065): sent", campaign_id)
                return "sent"
            if error.errcode is not None and error.errcode not in TRANSIENT_CODES:
                break
            log.warning("campaign %d attempt %d: %s", campaign_id, attempt + 1, error)
            if attempt < settings.retries:
                time.sleep(delay)
                delay *= 2
            continue
        _pause(settings, "sent", campaign_id)
        msg_id = str(answer.get("msg_id", ""))
        _finish(
            db,
            campaign_id,
            "sent",
            f"已提交微信群发（msg_id {msg_id}）",
            {"sent_at": now(), "msg_id": msg_id, "error_code": None, "error_message": ""},
        )
        log.info("campaign %d sent: msg_id %s", campaign_id, msg_id)
        return "sent"
    assert last is not None
    code = last.errcode if last.errcode is not None else -1
    errmsg = str(last)
    _finish(
        db,
        campaign_id,
        "failed",
        f"发送失败（{code}）",
        {"error_code": code, "error_message": explain(last.errcode, errmsg)},
    )
    log.error("campaign %d failed after %d attempt(s): %s", campaign_id, attempt + 1, last)
    return "failed"


def mark_overdue(db: Database, settings: SendSettings, at: float | None = None) -> list[int]:
    """Mark approved campaigns past their grace window as missed; their ids."""
    moment = time.time() if at is None else at
    limit = datetime.fromtimestamp(moment - settings.grace, SHANGHAI).isoformat(timespec="seconds")
    rows = db.execute(
        "SELECT id FROM campaigns WHERE status IN ('approved', 'sending') AND send_at < ?", [limit]
    ).fetchall()
    missed = []
    for (campaign_id,) in rows:
        if claim(db, campaign_id, "mark_overdue", settings, moment) is None:
            current = get_campaign(db, campaign_id)
            if current is not None and current.status in ("missed", "failed"):
                missed.append(campaign_id)
    return missed


def due_campaign_ids(db: Database, at: float | None = None, within: float = 0.0) -> list[int]:
    """Approved campaigns due by ``at`` + ``within`` seconds, and interrupted sends."""
    moment = time.time() if at is None else at
    until = datetime.fromtimestamp(moment + within, SHANGHAI).isoformat(timespec="seconds")
    rows = db.execute(
        "SELECT id FROM campaigns WHERE (status = 'approved' AND send_at <= ?) "
        "OR (status = 'sending' AND claim_until < ?) ORDER BY send_at, id",
        [until, moment],
    ).fetchall()
    return [row[0] for row in rows]


def upcoming(db: Database) -> list[tuple[int, datetime]]:
    """Every approved campaign with its send time (what the scheduler keeps jobs for)."""
    rows = db.execute("SELECT id, send_at FROM campaigns WHERE status = 'approved'").fetchall()
    return [(row[0], datetime.fromisoformat(row[1])) for row in rows]


def _job_result(fields: dict[str, str]) -> dict[str, Any]:
    def number(name: str) -> int | None:
        value = fields.get(name, "").strip()
        return int(value) if _COUNT.fullmatch(value) else None

    return {
        "result_status": fields.get("Status", "").strip()[:100],
        "result_total": number("TotalCount"),
        "result_filtered": number("FilterCount"),
        "result_sent": number("SentCount"),
        "result_errors": number("ErrorCount"),
    }


def _apply_job_result(db: Database, campaign_id: int, title: str, result: dict[str, Any]) -> None:
    changes = {**result, "updated_at": now()}
    if result["result_status"].lower() != "send success":
        # "send fail" or "err(…)": the job WeChat accepted did not go out, e.g. refused or
        # left unconfirmed by the API 群发保护.
        changes["status"] = "failed"
        changes["error_message"] = (
            f"微信报告这次群发没有成功（{result['result_status']}）。{PROTECTION_HINT}"
        )
    db["campaigns"].update(campaign_id, changes)
    record_audit(
        db,
        "微信",
        "job_finish",
        "campaign",
        campaign_id,
        f"{title}：{result['result_status']}，送达{result['result_sent']}人",
        after=result,
    )
    bump_campaign_generation(db)


def _unconfirmed_send(db: Database) -> tuple[int, str] | None:
    """The one campaign recorded sent from a 45065 (no msg_id, no result) in the last hour.

    None when there is none or more than one: the event names no audience, so only an
    unambiguous send can take its counts.
    """
    since = (datetime.now(UTC) - UNCONFIRMED_MATCH_WINDOW).isoformat(timespec="seconds")
    rows = db.execute(
        "SELECT id, title FROM campaigns WHERE status = 'sent' AND coalesce(msg_id, '') = '' "
        "AND error_code = ? AND coalesce(result_status, '') = '' AND sent_at >= ? LIMIT 2",
        [ALREADY_SENT, since],
    ).fetchall()
    return (rows[0][0], rows[0][1]) if len(rows) == 1 else None


def record_job_finish(db: Database, fields: dict[str, str]) -> bool:
    """Store a MASSSENDJOBFINISH event's result on its campaign; False if none matches yet.

    An event for a msg_id no campaign holds goes to the one send recorded from a 45065
    within the hour before (:func:`_unconfirmed_send`), or else is kept
    (``unmatched_job_results``) and applied when a campaign records that msg_id — the
    event can outrun the sender's own write.
    """
    msg_id = fields.get("MsgID", fields.get("MsgId", "")).strip()[:64]
    result = _job_result(fields)
    if not msg_id:
        log.warning("MASSSENDJOBFINISH without MsgID ignored: %s", result)
        return False
    with write(db):
        row = db.execute(
            "SELECT id, title, result_status, result_total, result_filtered, result_sent, "
            "result_errors FROM campaigns WHERE msg_id = ?",
            [msg_id],
        ).fetchone()
        if row is not None and tuple(row[2:]) == tuple(result.values()):
            return True  # WeChat's retry of an event already recorded
        if row is None:
            unconfirmed = _unconfirmed_send(db)
            if unconfirmed is not None:
                db["campaigns"].update(unconfirmed[0], {"msg_id": msg_id})
                _apply_job_result(db, unconfirmed[0], unconfirmed[1], result)
                log.info(
                    "campaign %d (sent, 45065): job result for msg_id %r matched to it",
                    unconfirmed[0],
                    msg_id[:40],
                )
                return True
            db["unmatched_job_results"].upsert(
                {"msg_id": msg_id, "result": json.dumps(result), "received_at": now()},
                pk="msg_id",
            )
            log.warning("MASSSENDJOBFINISH for unknown msg_id %r kept: %s", msg_id[:40], result)
            return False
        _apply_job_result(db, row[0], row[1], result)
    log.info("campaign %d: job finished: %s", row[0], result)
    return True


def _apply_waiting_result(db: Database, campaign_id: int, msg_id: str) -> None:
    """Inside the transaction that stored ``msg_id``: apply a result event that came first."""
    row = db.execute(
        "SELECT result FROM unmatched_job_results WHERE msg_id = ?", [msg_id]
    ).fetchone()
    if row is None:
        return
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None
    _apply_job_result(db, campaign_id, campaign.title, json.loads(row[0]))
    db.execute("DELETE FROM unmatched_job_results WHERE msg_id = ?", [msg_id])


def _adopt_result_of_the_hour(db: Database, campaign_id: int) -> None:
    """Inside the transaction that recorded a 45065 send: take the job result that came first.

    Only when exactly one result for an unknown msg_id arrived in the hour before, and this
    is the only send recorded from a 45065 still waiting for one (:func:`_unconfirmed_send`).
    """
    waiting = _unconfirmed_send(db)
    if waiting is None or waiting[0] != campaign_id:
        return
    since = (datetime.now(UTC) - UNCONFIRMED_MATCH_WINDOW).isoformat(timespec="seconds")
    rows = db.execute(
        "SELECT msg_id FROM unmatched_job_results WHERE received_at >= ? LIMIT 2", [since]
    ).fetchall()
    if len(rows) == 1:
        db["campaigns"].update(campaign_id, {"msg_id": rows[0][0]})
        _apply_waiting_result(db, campaign_id, rows[0][0])
        log.info(
            "campaign %d (sent, 45065): earlier job result %r matched", campaign_id, rows[0][0]
        )


def _previews_today(db: Database, column: str, value: str | int) -> int:
    since = (
        datetime.now(SHANGHAI)
        .replace(hour=0, minute=0, second=0, microsecond=0)
        .astimezone(UTC)
        .isoformat(timespec="seconds")
    )
    return db.execute(
        f"SELECT count(*) FROM campaign_previews WHERE {column} = ? AND at >= ?", [value, since]
    ).fetchone()[0]


def preview_campaign(db: Database, api: WeChatAPI, campaign_id: int, by: str) -> None:
    """Send the campaign before approval to the phone ``by`` bound for previews, and no other.

    At most :data:`MAX_PREVIEWS_PER_STAFF` a (Beijing) day per staff member and
    :data:`MAX_PREVIEWS_PER_CAMPAIGN` per campaign; each is in the audit log. The preview
    record keeps the phone's keyed hash, never its OpenID. Previews use no mass-send quota.
    """
    account = get_user(db, by) if by else None
    if account is None or not account.can("edit"):
        raise CampaignError(f"没有名为“{by}”、可以编写群发的工作人员账号。")
    phone = bound_phone(db, account.name)
    if phone is None:
        raise CampaignError(
            f"“{account.name}”还没有绑定接收预览的手机：请在员工后台“我的账号”页生成绑定码，"
            "用要绑定的手机在微信里发给公众号。"
        )
    with write(db):
        campaign = get_campaign(db, campaign_id)
        if campaign is None:
            raise CampaignError(f"没有编号为 {campaign_id} 的群发。")
        if campaign.status not in ("draft", "in_review", "approved"):
            raise CampaignError(f"群发 #{campaign_id} 现在是“{campaign.status_name}”，不能再预览。")
        if _previews_today(db, "staff", account.name) >= MAX_PREVIEWS_PER_STAFF:
            raise CampaignError(
                f"每位工作人员每天最多预览{MAX_PREVIEWS_PER_STAFF}次，你今天已用完，请明天再试。"
            )
        if _previews_today(db, "campaign_id", campaign_id) >= MAX_PREVIEWS_PER_CAMPAIGN:
            raise CampaignError(
                f"每次群发每天最多预览{MAX_PREVIEWS_PER_CAMPAIGN}次，这次群发今天已用完，请明天再试。"
            )
        # The slot is taken before the call, so two requests at once cannot pass the cap.
        record = {"campaign_id": campaign_id, "target": phone.resident, "staff": account.name}
        preview_id = db["campaign_previews"].insert({**record, "at": now()}).last_pk
    try:
        api.mass_preview(mass_message(api, campaign), openid=phone.openid)
    except WeChatAPIError as error:
        with write(db):
            db["campaign_previews"].delete(preview_id)
        raise CampaignError(f"预览未发出：{explain(error.errcode, str(error))}") from error
    with write(db):
        record_audit(
            db,
            account.name,
            "preview",
            "campaign",
            campaign_id,
            f"{campaign.title}：预览发到 {account.name} 绑定的手机",
        )


def init_event_hook(app: Flask) -> None:
    """Have the webhook hand MASSSENDJOBFINISH events to :func:`record_job_finish`."""
    app.extensions.setdefault("pufa.wechat_events", {})["masssendjobfinish"] = record_job_finish
