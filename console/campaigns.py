"""Campaigns in the console (``/admin/campaigns``): plan, edit, submit, preview, approve, cancel.

Views over :mod:`scheduler.campaigns` and :mod:`scheduler.sender`; a refusal (quota, the
author approving their own campaign, a text over 300 characters …) is shown on the page
with status 400 or 409 and logged, and changes nothing.
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
from knowledge.store import SHANGHAI
from scheduler.calendar import find_day
from scheduler.campaigns import (
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
        form.update(
            title=day.name, text=suggested_text(db, day), day=key, date=on or day.start.isoformat()
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


@bp.get("/<int:campaign_id>")
@require_permission("edit")
def detail(campaign_id: int) -> str:
    """One campaign: its text, status, result, and the actions open to this account."""
    return render_template("console/campaign.html", campaign=_campaign_or_404(campaign_id))


@bp.get("/<int:campaign_id>/edit")
@require_permission("edit")
def edit(campaign_id: int) -> str:
    """The form to change a draft."""
    campaign = _campaign_or_404(campaign_id)
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
    """Save the changed draft; the form again with the reason (400) if refused."""
    campaign = _campaign_or_404(campaign_id)
    try:
        title, text, moment, tag = _form_values()
        update_campaign(
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
    flash("已保存。")
    return redirect(url_for("admin.campaigns.detail", campaign_id=campaign_id))


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
        return render_template("console/campaign.html", campaign=campaign, error=str(error)), 409
    flash(message)
    return redirect(url_for("admin.campaigns.detail", campaign_id=campaign_id))


def _preview(campaign_id: int) -> str:
    db = get_db()
    api = api_for(current_app, db)
    if api is None:
        raise CampaignError("未设置公众号的 AppID 和 AppSecret，无法预览。")
    openid = request.form.get("openid", "").strip()
    wxname = request.form.get("wxname", "").strip()
    preview_campaign(db, api, campaign_id, current_user.name, openid=openid, wxname=wxname)
    return f"预览已发给 {openid or wxname}，请在手机上查看。"


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
    """Cancel it before it is sent."""
    return _act(campaign_id, "cancel")


@bp.post("/<int:campaign_id>/preview")
@require_permission("edit")
def preview(campaign_id: int) -> Response | tuple[str, int]:
    """Send it to one staff member's phone (OpenID or WeChat ID)."""
    return _act(campaign_id, "preview")
