"""The console's first page (``/admin/``): entries per status and topic, latest unanswered."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, render_template

from console.access import require_permission
from knowledge.db import get_db
from knowledge.entries import STATUS_NAMES, STATUSES
from knowledge.topics import TOPICS
from knowledge.unanswered import count_unanswered, recent_unanswered

bp = Blueprint("dashboard", __name__)

DASHBOARD_UNANSWERED = 20


@bp.get("/")
@require_permission("edit")
def overview() -> str:
    """Entries counted per status and per topic, and the latest questions Pufa did not answer."""
    db = get_db()
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
        unanswered=recent_unanswered(db, DASHBOARD_UNANSWERED),
        unanswered_total=count_unanswered(db),
    )
