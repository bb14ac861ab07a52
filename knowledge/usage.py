"""What residents ask, in figures: the dashboard's counts over the record of turns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from knowledge.review import Draft, drafts_in_review
from knowledge.store import SHANGHAI
from knowledge.topics import topic_name
from knowledge.unanswered_groups import UnansweredGroup, unanswered_groups

#: Beijing calendar day of a stored UTC time, in SQL.
_LOCAL_DAY = "date(at, '+8 hours')"


@dataclass
class DayCount:
    """One Beijing day's questions by band."""

    day: str
    answer: int = 0
    choices: int = 0
    fallback: int = 0

    @property
    def total(self) -> int:
        """All questions that day."""
        return self.answer + self.choices + self.fallback


def band_share(counts: list[DayCount], band: str) -> float:
    """The share (0–1) of the questions counted in ``counts`` that fell in ``band``."""
    total = sum(count.total for count in counts)
    return sum(getattr(count, band) for count in counts) / total if total else 0.0


@dataclass
class Usage:
    """The dashboard's figures for the last ``days`` days (Beijing time)."""

    days: int
    per_day: list[DayCount]
    unhelpful: int
    answered: int
    top_entries: list[dict[str, Any]] = field(default_factory=list)
    top_topics: list[dict[str, Any]] = field(default_factory=list)
    top_unanswered: list[UnansweredGroup] = field(default_factory=list)
    waiting_review: list[Draft] = field(default_factory=list)

    @property
    def questions(self) -> int:
        """All questions in the period."""
        return sum(day.total for day in self.per_day)

    def share(self, band: str) -> float:
        """The share (0–1) of questions in ``band``: "answer", "choices" or "fallback"."""
        return band_share(self.per_day, band)

    @property
    def unhelpful_rate(self) -> float:
        """👎 per answer given (0–1)."""
        return self.unhelpful / self.answered if self.answered else 0.0


def beijing_today() -> date:
    """Today's date in Beijing."""
    return datetime.now(SHANGHAI).date()


def usage_summary(db: Database, days: int = 14, today: date | None = None, top: int = 5) -> Usage:
    """The figures for the ``days`` Beijing days up to ``today``, and the top ``top`` lists."""
    last = today or beijing_today()
    first = last - timedelta(days=days - 1)
    since = [first.isoformat()]
    per_day = {
        (first + timedelta(days=n)).isoformat(): DayCount((first + timedelta(days=n)).isoformat())
        for n in range(days)
    }
    rows = db.execute(
        f"SELECT {_LOCAL_DAY} AS day, kind, count(*) FROM turns "
        f"WHERE kind IN ('answer', 'choices', 'fallback') AND {_LOCAL_DAY} >= ? "
        "GROUP BY day, kind",
        since,
    ).fetchall()
    for day, kind, count in rows:
        if day in per_day:
            setattr(per_day[day], kind, count)
    unhelpful, answered = db.execute(
        "SELECT coalesce(sum(kind = 'feedback' AND helpful = 0), 0), "
        f"coalesce(sum(kind IN ('answer', 'selection')), 0) FROM turns WHERE {_LOCAL_DAY} >= ?",
        since,
    ).fetchone()
    top_entries = list(
        db.query(
            "SELECT turns.entry_id, entries.question, entries.topic, "
            "sum(turns.kind IN ('answer', 'selection')) AS answered, "
            "sum(turns.kind = 'feedback' AND turns.helpful = 0) AS unhelpful "
            "FROM turns JOIN entries ON entries.id = turns.entry_id "
            f"WHERE {_LOCAL_DAY} >= ? GROUP BY turns.entry_id HAVING answered > 0 "
            "ORDER BY answered DESC, turns.entry_id LIMIT ?",
            [*since, top],
        )
    )
    top_topics = _answered_by_topic(db, f"{_LOCAL_DAY} >= ?", since, top)
    return Usage(
        days=days,
        per_day=list(per_day.values()),
        unhelpful=unhelpful,
        answered=answered,
        top_entries=top_entries,
        top_topics=top_topics,
        top_unanswered=unanswered_groups(db)[:top],
        waiting_review=drafts_in_review(db),
    )


def _answered_by_topic(
    db: Database, period: str, params: Sequence[Any], limit: int | None = None
) -> list[dict[str, Any]]:
    """Questions answered (directly or by a numbered choice) per topic in the turns that
    match the SQL condition ``period``, most first, each with the topic's name."""
    rows = db.query(
        "SELECT entries.topic, count(*) AS answered FROM turns "
        "JOIN entries ON entries.id = turns.entry_id "
        f"WHERE turns.kind IN ('answer', 'selection') AND {period} "
        "GROUP BY entries.topic ORDER BY answered DESC, entries.topic"
        + ("" if limit is None else " LIMIT ?"),
        [*params, *([] if limit is None else [limit])],
    )
    return [{**row, "name": topic_name(row["topic"])} for row in rows]


@dataclass
class YearQuestions:
    """A year's questions (Beijing time): by month and band, by topic, and the top entries."""

    year: int
    by_month: list[DayCount]  # January … December; ``day`` is "YYYY-MM"
    by_topic: list[dict[str, Any]]
    top_entries: list[dict[str, Any]]

    @property
    def questions(self) -> int:
        """All questions in the year."""
        return sum(month.total for month in self.by_month)

    def share(self, band: str) -> float:
        """The share (0–1) of the year's questions in ``band``."""
        return band_share(self.by_month, band)


def year_questions(db: Database, year: int, top: int = 10) -> YearQuestions:
    """What residents asked in ``year``, counted from the record of turns.

    Counts survive the purge of texts, so a year's figures stay whole after 180 days.
    """
    months = {f"{year}-{m:02d}": DayCount(f"{year}-{m:02d}") for m in range(1, 13)}
    month_of = "strftime('%Y-%m', at, '+8 hours')"
    for month, kind, count in db.execute(
        f"SELECT {month_of} AS month, kind, count(*) FROM turns "
        f"WHERE kind IN ('answer', 'choices', 'fallback') AND {month_of} LIKE ? "
        "GROUP BY month, kind",
        [f"{year}-%"],
    ).fetchall():
        if month in months:
            setattr(months[month], kind, count)
    answered = "turns.kind IN ('answer', 'selection')"
    by_topic = _answered_by_topic(db, f"{month_of} LIKE ?", [f"{year}-%"])
    top_entries = list(
        db.query(
            "SELECT turns.entry_id, entries.question, entries.topic, count(*) AS answered "
            "FROM turns JOIN entries ON entries.id = turns.entry_id "
            f"WHERE {answered} AND {month_of} LIKE ? "
            "GROUP BY turns.entry_id ORDER BY answered DESC, turns.entry_id LIMIT ?",
            [f"{year}-%", top],
        )
    )
    return YearQuestions(year, list(months.values()), by_topic, top_entries)
