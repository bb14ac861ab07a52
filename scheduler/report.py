"""The year's publicity report (法治政府建设 annual report): campaigns held and their reach.

Campaigns sent in the year (date, publicity day, audience, followers reached from the
job-finish event), what was planned but failed, missed or cancelled, and — from the log
of questions Pufa could not answer directly — how many such questions came each month.
A record of every resident's question (for the share answered and the most asked
entries) is not in the store yet; the report says so instead of guessing.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlite_utils import Database

from knowledge.store import SHANGHAI
from scheduler.calendar import days_in
from scheduler.campaigns import STATUS_NAMES, Campaign, list_campaigns

MISSING_FIGURES = "居民全部提问的记录尚未启用：回答比例和最常被问的条目暂无数据。"


@dataclass(frozen=True)
class YearReport:
    """The figures of one year."""

    year: int
    sent: list[tuple[Campaign, str]]  # each sent campaign with its publicity day's name
    by_status: dict[str, int]
    reached: int
    unanswered_by_month: list[int]  # January … December

    @property
    def unanswered_total(self) -> int:
        """Questions Pufa could not answer directly in the year."""
        return sum(self.unanswered_by_month)


def year_report(db: Database, year: int) -> YearReport:
    """Gather the figures of ``year`` (Beijing time)."""
    names = {day.key: day.name for day in days_in(year, db)}
    campaigns = list_campaigns(db, year=year)
    sent = [(c, names.get(c.day_key, "")) for c in campaigns if c.status == "sent"]
    months = [0] * 12
    # Every unanswered turn counts, handled or not, its text purged or not.
    for (asked_at,) in db.execute(
        "SELECT at FROM turns WHERE kind IN ('choices', 'fallback')"
    ).fetchall():
        try:
            moment = datetime.fromisoformat(asked_at)
        except (TypeError, ValueError):
            continue
        local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(SHANGHAI)
        if local.year == year:
            months[local.month - 1] += 1
    return YearReport(
        year=year,
        sent=sent,
        by_status=dict(Counter(c.status for c in campaigns)),
        reached=sum(c.result_sent or 0 for c, _ in sent),
        unanswered_by_month=months,
    )


def report_lines(report: YearReport) -> list[str]:
    """The report as text (``flask report year``)."""
    lines = [
        f"{report.year}年普法宣传群发",
        f"已发送 {len(report.sent)} 次，送达 {report.reached} 人次",
    ]
    for campaign, day in report.sent:
        reached = (
            "未收到结果" if campaign.result_sent is None else f"送达 {campaign.result_sent} 人"
        )
        lines.append(
            f"  {campaign.send_at.strftime('%Y-%m-%d')}  {campaign.title}  {day or '—'}  "
            f"{campaign.audience}  {reached}"
        )
    others = [f"{STATUS_NAMES[s]} {n}" for s, n in sorted(report.by_status.items()) if s != "sent"]
    if others:
        lines.append("其他：" + "，".join(others))
    lines.append(f"没有直接回答的居民提问：共 {report.unanswered_total} 条")
    lines.append(
        "  " + "  ".join(f"{m + 1}月 {n}" for m, n in enumerate(report.unanswered_by_month))
    )
    lines.append(MISSING_FIGURES)
    return lines


def report_csv(report: YearReport) -> str:
    """The report as CSV (opened by Excel with the UTF-8 BOM the caller adds)."""
    out = io.StringIO()
    table = csv.writer(out)
    table.writerow(["发送日期", "标题", "宣传日", "对象", "送达人数", "微信结果"])
    for campaign, day in report.sent:
        table.writerow(
            [
                campaign.send_at.strftime("%Y-%m-%d %H:%M"),
                campaign.title,
                day,
                campaign.audience,
                "" if campaign.result_sent is None else campaign.result_sent,
                campaign.result_status,
            ]
        )
    table.writerow([])
    table.writerow(["月份", "没有直接回答的提问"])
    for month, count in enumerate(report.unanswered_by_month, start=1):
        table.writerow([f"{report.year}-{month:02d}", count])
    return out.getvalue()
