"""The year's publicity report (法治政府建设 annual report): campaigns held and their reach.

Campaigns sent in the year (date, publicity day, audience, followers reached from the
job-finish event), what was planned but failed, missed or cancelled, and — from the record
of residents' turns — the questions asked each month and by topic, the share answered
directly, and the most asked entries.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlite_utils import Database

from knowledge.store import SHANGHAI
from knowledge.usage import YearQuestions, year_questions
from scheduler.calendar import days_in
from scheduler.campaigns import STATUS_NAMES, Campaign, list_campaigns

#: A sent campaign whose WeChat result never arrived (e.g. sent again after a 45065).
UNCONFIRMED_DELIVERY = "已发送，送达数未确认"


@dataclass(frozen=True)
class YearReport:
    """The figures of one year."""

    year: int
    sent: list[tuple[Campaign, str]]  # each sent campaign with its publicity day's name
    by_status: dict[str, int]
    reached: int
    unanswered_by_month: list[int]  # January … December
    questions: YearQuestions

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
        questions=year_questions(db, year),
    )


def report_lines(report: YearReport) -> list[str]:
    """The report as text (``flask report year``)."""
    lines = [
        f"{report.year}年普法宣传群发",
        f"已发送 {len(report.sent)} 次，送达 {report.reached} 人次",
    ]
    for campaign, day in report.sent:
        reached = (
            UNCONFIRMED_DELIVERY
            if campaign.result_sent is None
            else f"送达 {campaign.result_sent} 人"
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
    asked = report.questions
    lines.append(
        f"居民提问：共 {asked.questions} 条，直接回答 {asked.share('answer'):.0%}，"
        f"给了选项 {asked.share('choices'):.0%}，没答上 {asked.share('fallback'):.0%}"
    )
    lines.append("  " + "  ".join(f"{m + 1}月 {c.total}" for m, c in enumerate(asked.by_month)))
    if asked.by_topic:
        lines.append(
            "按主题（回答次数）："
            + "，".join(f"{t['name']} {t['answered']}" for t in asked.by_topic)
        )
    if asked.top_entries:
        lines.append("最常被问的条目：")
        lines.extend(f"  {row['answered']}次  {row['question']}" for row in asked.top_entries)
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
                campaign.result_status or UNCONFIRMED_DELIVERY,
            ]
        )
    table.writerow([])
    table.writerow(["月份", "没有直接回答的提问"])
    for month, count in enumerate(report.unanswered_by_month, start=1):
        table.writerow([f"{report.year}-{month:02d}", count])
    table.writerow([])
    table.writerow(["月份", "居民提问", "直接回答", "给了选项", "没答上"])
    for month in report.questions.by_month:
        table.writerow([month.day, month.total, month.answer, month.choices, month.fallback])
    table.writerow([])
    table.writerow(["主题", "回答次数"])
    for topic in report.questions.by_topic:
        table.writerow([topic["name"], topic["answered"]])
    table.writerow([])
    table.writerow(["最常被问的条目", "回答次数"])
    for row in report.questions.top_entries:
        table.writerow([row["question"], row["answered"]])
    return out.getvalue()
