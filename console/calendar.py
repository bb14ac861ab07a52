"""The publicity calendar (``/admin/calendar``): the next 12 months as a list or one month."""

from __future__ import annotations

import calendar as month_grid
import logging
import re
from datetime import date, datetime

from flask import Blueprint, abort, render_template, request

from console.access import require_permission
from knowledge.db import get_db
from knowledge.store import SHANGHAI
from scheduler.calendar import PublicityDay, last_listed_day, next_12_months
from scheduler.campaigns import Campaign, list_campaigns

bp = Blueprint("calendar", __name__, url_prefix="/calendar")
log = logging.getLogger(__name__)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def _today() -> date:
    return datetime.now(SHANGHAI).date()


def _campaigns_by_day(days: list[PublicityDay]) -> dict[str, list[Campaign]]:
    """Each publicity day's campaigns (by day key and year), from the campaigns table."""
    found: dict[str, list[Campaign]] = {}
    campaigns = list_campaigns(get_db())
    for day in days:
        found[f"{day.key}:{day.start.year}"] = [
            c
            for c in campaigns
            if (c.day_key == day.key and c.send_at.astimezone(SHANGHAI).year == day.start.year)
            or (not c.day_key and day.covers(c.send_at.astimezone(SHANGHAI).date()))
        ]
    return found


@bp.get("")
@require_permission("edit")
def overview() -> str:
    """The next 12 months of publicity days, by month (``?month=YYYY-MM``: that month's grid)."""
    today = _today()
    days = next_12_months(today, get_db())
    campaigns = _campaigns_by_day(days)
    month = request.args.get("month", "")
    if not month:
        months: dict[str, list[PublicityDay]] = {label: [] for _, label in month_links(today)}
        for day in days:
            shown = max(day.start, today)  # a window already open is listed this month
            months.setdefault(f"{shown.year}年{shown.month}月", []).append(day)
        return render_template(
            "console/calendar.html",
            months=months,
            campaigns=campaigns,
            today=today,
            month_links=month_links(today),
        )
    match = _MONTH.match(month)
    if not match or not 1 <= int(match[2]) <= 12:
        log.info("console calendar: bad month %r", month[:20])
        abort(400, description="月份请写成 2027-04 这样的格式。")
    year, number = int(match[1]), int(match[2])
    weeks = month_grid.Calendar(firstweekday=0).monthdatescalendar(year, number)
    return render_template(
        "console/calendar_month.html",
        year=year,
        month=number,
        weeks=weeks,
        days=days,
        campaigns=campaigns,
        today=today,
        month_links=month_links(today),
    )


def month_links(today: date) -> list[tuple[str, str]]:
    """A link for every month the list shows: 13 of them unless today is the 1st."""
    last = last_listed_day(today)
    links = []
    year, month = today.year, today.month
    while (year, month) <= (last.year, last.month):
        links.append((f"{year}-{month:02d}", f"{year}年{month}月"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return links
