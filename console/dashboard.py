"""The console's first page (``/admin/``): what residents ask, and the knowledge base.

Questions per day (a stacked bar chart in inline SVG, drawn by the server: no script and
nothing from a CDN, so it works offline), the share answered directly / with choices /
not at all, the 👎 rate, the top entries, topics and unanswered questions, the entries
waiting for review, and the entries per status and topic. Any signed-in staff may look.
"""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, g, render_template

from console.charts import BANDS, daily_chart, share_segments
from knowledge.db import get_db
from knowledge.entries import STATUS_NAMES, STATUSES
from knowledge.topics import TOPICS
from knowledge.turns import unhelpful_counts
from knowledge.unanswered import count_unanswered
from knowledge.usage import usage_summary

bp = Blueprint("dashboard", __name__)

#: Days the dashboard's figures cover (Beijing time, today included).
DASHBOARD_DAYS = 14


@bp.get("/")
def overview() -> str:
    """What residents asked in the last two weeks, and the entries per status and topic."""
    db = get_db()
    usage = usage_summary(db, DASHBOARD_DAYS)
    by_topic: dict[str, Counter[str]] = {key: Counter() for key in TOPICS}
    for topic, status, count in db.execute(
        "SELECT topic, status, count(*) FROM entries GROUP BY topic, status"
    ).fetchall():
        by_topic.setdefault(topic, Counter())[status] += count
    by_status = sum(by_topic.values(), Counter())
    return render_template(
        "console/dashboard.html",
        statuses=[*STATUSES, *sorted(set(by_status) - set(STATUSES))],
        by_status=by_status,
        by_topic=by_topic,
        known_statuses=STATUS_NAMES,
        known_topics=TOPICS,
        unanswered_total=count_unanswered(db),
        usage=usage,
        chart=daily_chart(usage.per_day),
        shares=share_segments({band: usage.share(band) for band in BANDS}),
        bands=BANDS,
    )


def unhelpful_of(entry_id: int) -> tuple[int, int]:
    """(👎 count, times answered) of an entry, counted once per request for every page."""
    if "unhelpful_counts" not in g:
        g.unhelpful_counts = unhelpful_counts(get_db())
    return g.unhelpful_counts.get(entry_id, (0, 0))


@bp.app_context_processor
def _feedback_helpers() -> dict[str, object]:
    return {"unhelpful_of": unhelpful_of}
