"""Campaigns in the console (``/admin/campaigns``): plan, edit, submit, preview, approve, cancel.

Views over :mod:`scheduler.campaigns` and :mod:`scheduler.sender`; a refusal (quota, a
contributor approving the campaign, a text over 300 characters …) is shown on the page
with status 400 or 409 and logged, and changes nothing. The page shows who wrote, changed
and submitted the campaign and, to its reviewer, what changed since the last review.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from bot.wechat.api import api_for
from console.access import require_permission
from knowledge.db import get_db
from knowledge.staff_phones import bound_phone
from knowledge.store import SHANGHAI
from scheduler.calendar import find_day, suggested_send_time
from scheduler.campaign_versions import changes_since_review, contributors, history
from scheduler.campaigns import (
    EDITABLE,
    MAX_TEXT_CHARS,
    STATUS_NAMES,
    CampaignError,
    approve_campaign,
    cancel_campaign,
    create_campaign,
    get_campaign,
    list_campaigns,
    parse_send_time,
    return_campaign,
    submit_campaign,
    update_campaign,
)
from scheduler.housekeeping import last_heartbeat
from scheduler.sender import preview_campaign
from scheduler.suggestions import suggested_text

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
log = logging.getLogger(__name__)
_MAX_ID = 2**63 - 1


def _account_type() -> str:
    return str(current_app.config["WECHAT_ACCOUNT_TYPE"])


def _campaign_or_404(campaign_id: int) -> Any:
    found = get_campaign(get_db(), campaign_id) if campaign_id <= _MAX_ID else None
    if found is None:
        abort(404, description=f"没有编号为 {campaign_id} 的群发")
    return found


def _form_values() -> tuple[str, str, datetime, int | None]:
    """Title, text, send time and tag from the posted form; CampaignError if unreadable."""
    title = request.form.get("title", "")
    text = request.form.get("text", "").replace("\r\n", "\n").strip()
    moment = parse_send_time(f"{request.form.get('date', '')} {request.form.get('time', '')}")
    tag = request.form.get("tag", "").strip()
    if tag and not tag.isdigit():
        raise CampaignError("标签编号须为数字；发给全部关注者请留空。")
    return title, text, moment, int(tag) if tag else None


@bp.get("")
@require_permission("edit")
def listing() -> str:
    """Every campaign by send time (``?status=``: of one status, 400 if unknown), and whether
    the scheduler process is alive (its heartbeat).
    """
    status = request.args.get("status") or None
    if status is not None and status not in STATUS_NAMES:
        abort(400, description="没有这种群发状态")
    db = get_db()
    beat = last_heartbeat(db)
    stale_after = 3 * float(current_app.config["SCHEDULER_HEARTBEAT_SECONDS"])
    return render_template(
        "console/campaigns.html",
        campaigns=list_campaigns(db, status),
        status=status,
        statuses=STATUS_NAMES,
        heartbeat_age=None if beat is None else beat[1],
        scheduler_down=beat is None or beat[1] > stale_after,
    )


@bp.get("/new")
@require_permission("edit")
def new() -> str:
    """The plan-a-campaign form; ``?day=KEY&date=YYYY-MM-DD`` fills in a suggested text."""
    db = get_db()
    form = {"title": "", "text": "", "date": "", "time": "09:00", "tag": "", "day": ""}
    key, on = request.args.get("day", ""), request.args.get("date", "")
    if key:
        try:
            year = date.fromisoformat(on).year if on else datetime.now(SHANGHAI).year
        except ValueError:
            abort(400, description="日期请写成 2027-04-15 这样的格式。")
        day = find_day(db, key, year)
        if day is None:
            abort(404, description=f"没有标识为 {key} 的宣传日")
        send_at = suggested_send_time(
            date.fromisoformat(on) if on else day.start, datetime.now(SHANGHAI)
        )
        form.update(
            title=day.name,
            text=suggested_text(db, day),
            day=key,
            date=send_at.date().isoformat(),
            time=send_at.strftime("%H:%M"),
        )
    return render_template(
        "console/campaign_form.html", form=form, campaign=None, max_chars=MAX_TEXT_CHARS
    )


@bp.post("/new")
@require_permission("edit")
def create() -> Response | tuple[str, int]:
    """Create the draft; the form again with the reason (400) if refused."""
    try:
        title, text, moment, tag = _form_values()
        campaign_id = create_campaign(
            get_db(),
            title=title,
            text=text,
            send_at=moment,
            account_type=_account_type(),
            by=current_user.name,
            tag_id=tag,
            day_key=request.form.get("day", ""),
        )
    except CampaignError as error:
        log.info("console: campaign by %s refused: %s", current_user.name, error)
        return render_template(
            "console/campaign_form.html",
            form=request.form,
            campaign=None,
            error=str(error),
            max_chars=MAX_TEXT_CHARS,
        ), 400
    flash(f"已保存群发 #{campaign_id}（草稿）。")
    return redirect(url_for("admin.campaigns.detail", campaign_id=campaign_id))


def _detail_page(campaign: Any, error: str | None = None) -> str:
    db = get_db()
    return render_template(
        "console/campaign.html",
        campaign=campaign,
        error=error,
        contributors=contributors(db, campaign.id),
        history=history(db, campaign.id),
        since_review=changes_since_review(db, campaign.id, campaign.reviewed_version),
        phone_bound=bound_phone(db, current_user.name) is not None,
        editable=EDITABLE,
    )


@bp.get("/<int:campaign_id>")
@require_permission("edit")
def detail(campaign_id: int) -> str:
    """One campaign: its text, status, result, who took part, what changed since the last
    review, and the actions open to this account.
    """
    return _detail_page(_campaign_or_404(campaign_id))


@bp.get("/<int:campaign_id>/edit")
@require_permission("edit")
def edit(campaign_id: int) -> str:
    """The form to change a campaign not yet sending (409 for one that is)."""
    campaign = _campaign_or_404(campaign_id)
    if campaign.status not in EDITABLE:
        abort(409, description=f"群发 #{campaign_id} 现在是“{campaign.status_name}”，已不能修改。")
    local = campaign.send_at.astimezone(SHANGHAI)
    form = {
        "title": campaign.title,
        "text": campaign.text,
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
        "tag": campaign.tag_id or "",
        "day": campaign.day_key,
    }
    return render_template(
        "console/campaign_form.html", form=form, campaign=campaign, max_chars=MAX_TEXT_CHARS
    )


@bp.post("/<int:campaign_id>/edit")
@require_permission("edit")
def save(campaign_id: int) -> Response | tuple[str, int]:
    """Save the change; the form again with the reason (400) if refused.

    A change of content to a campaign in review or approved sends it back to draft (the
    message says so, and by when it must be approved again to keep its send time); a change
    of send time alone keeps its review.
    """
    campaign = _campaign_or_404(campaign_id)
    try:
        title, text, moment, tag = _form_values()
        updated = update_campaign(
            get_db(),
            campaign_id,
            by=current_user.name,
            account_type=_account_type(),
            title=title,
            text=text,
            send_at=moment,
            tag_id=tag,
        )
    except CampaignError as error:
        log.info("console: edit of campaign %d refused: %s", campaign_id, error)
        return render_template(
            "console/campaign_form.html",
            form=request.form,
            campaign=campaign,
            error=str(error),
            max_chars=MAX_TEXT_CHARS,
        ), 400
    flash(_saved_message(campaign, updated))
    return redirect(url_for("admin.campaigns.detail", campaign_id=campaign_id))


def _saved_message(before: Any, after: Any) -> str:
    """What the save did, in particular to the campaign's review and its send slot."""
    slot = after.send_at.strftime("%m月%d日 %H:%M")
    if before.status != after.status:
        return (
            f"已保存。内容改了，群发已从“{before.status_name}”退回草稿，须重新提交、由另一位"
            f"审核人批准；{slot}前没有批准就不会发出。"
        )
    if before.send_at != after.send_at and after.status == "approved":
        return f"已保存。发送时间改为 {slot}（北京时间），审核结果保留；修改已记入操作记录。"
    return "已保存。"


def _act(campaign_id: int, action: str) -> Response | tuple[str, int]:
    db, name = get_db(), current_user.name
    campaign = _campaign_or_404(campaign_id)
    try:
        if action == "submit":
            submit_campaign(db, campaign_id, name, _account_type())
            message = "已提交审核。"
        elif action == "approve":
            approve_campaign(db, campaign_id, name, _account_type())
            message = "已批准：到时间会自动发送。"
        elif action == "return":
            return_campaign(db, campaign_id, name)
            message = "已退回修改。"
        elif action == "cancel":
            cancel_campaign(db, campaign_id, name)
            message = "已取消。"
        else:
            message = _preview(campaign_id)
    except CampaignError as error:
        log.info("console: %s of campaign %d by %s refused: %s", action, campaign_id, name, error)
        return _detail_page(campaign, str(error)), 409
    flash(message)
    return redirect(url_for("admin.campaigns.detail", campaign_id=campaign_id))


def _preview(campaign_id: int) -> str:
    db = get_db()
    api = api_for(current_app, db)
    if api is None:
        raise CampaignError("未设置公众号的 AppID 和 AppSecret，无法预览。")
    preview_campaign(db, api, campaign_id, current_user.name)
    return "预览已发到你绑定的手机，请在微信里查看。"


@bp.post("/<int:campaign_id>/submit")
@require_permission("edit")
def submit(campaign_id: int) -> Response | tuple[str, int]:
    """Send the draft to review."""
    return _act(campaign_id, "submit")


@bp.post("/<int:campaign_id>/approve")
@require_permission("review")
def approve(campaign_id: int) -> Response | tuple[str, int]:
    """Approve it (a reviewer who is not its author)."""
    return _act(campaign_id, "approve")


@bp.post("/<int:campaign_id>/return")
@require_permission("review")
def send_back(campaign_id: int) -> Response | tuple[str, int]:
    """Send it back to its author as a draft."""
    return _act(campaign_id, "return")


@bp.post("/<int:campaign_id>/cancel")
@require_permission("edit")
def cancel(campaign_id: int) -> Response | tuple[str, int]:
    """Cancel it before it is sent (an approved one: reviewers, admins and its author)."""
    return _act(campaign_id, "cancel")


@bp.post("/<int:campaign_id>/preview")
@require_permission("edit")
def preview(campaign_id: int) -> Response | tuple[str, int]:
    """Send it to the phone the signed-in staff member bound for previews, and no other."""
    return _act(campaign_id, "preview")
