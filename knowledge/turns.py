"""The record of residents' turns: every message Pufa answered, kept for staff and counts.

A turn holds when, which channel (wx / api / web), what kind of reply, the entry answered
and its score, the resident as a keyed hash (``knowledge.residents.resident_key``, never
the raw OpenID) and the message text. Texts are kept for a retention period
(``RESIDENT_TEXT_RETENTION_DAYS``) and then removed by :func:`purge_old_texts`; the rest of
the turn stays for the dashboard and the annual report.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlite_utils import Database

from knowledge.db import write
from knowledge.store import now

#: turn kind → what staff read it as.
TURN_KINDS: dict[str, str] = {
    "answer": "直接回答",
    "choices": "给了选项",
    "fallback": "没答上",
    "declined": "选项都不是",
    "selection": "选了选项",
    "topic": "浏览主题",
    "article": "查法条",
    "more": "看后续",
    "feedback": "反馈",
    "welcome": "欢迎",
    "help": "帮助",
}
#: The kinds that are a resident's question put to the matcher.
QUESTION_KINDS = ("answer", "choices", "fallback")
#: The kinds that gave the resident an entry's answer.
ANSWERED_KINDS = ("answer", "selection")
#: Longest text kept of one message (characters).
MAX_TEXT_CHARS = 500


def record_turn(
    db: Database,
    *,
    channel: str,
    kind: str,
    resident: str | None,
    text: str | None,
    entry_id: int | None = None,
    score: float | None = None,
    candidates: Sequence[dict[str, Any]] = (),
    helpful: bool | None = None,
) -> int:
    """Store one turn and return its id, inside the caller's write or in one of its own.

    ``resident`` must already be a keyed hash; ``candidates`` are the matcher's closest
    entries (kept for choices and fallbacks, where staff need them).
    """
    if kind not in TURN_KINDS:
        raise ValueError(f"unknown turn kind {kind!r}")
    row = [
        now(),
        channel,
        kind,
        entry_id,
        score,
        resident,
        None if text is None else text[:MAX_TEXT_CHARS],
        json.dumps(list(candidates), ensure_ascii=False) if candidates else None,
        None if helpful is None else int(helpful),
    ]
    if db.conn.in_transaction:
        return _insert_turn(db, row)
    with write(db):
        return _insert_turn(db, row)


def _insert_turn(db: Database, row: list[Any]) -> int:
    return db.execute(
        "INSERT INTO turns (at, channel, kind, entry_id, score, resident, text, candidates, "
        "helpful) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        row,
    ).lastrowid


def retention_cutoff(days: int, moment: datetime | None = None) -> str:
    """The stored-time string before which texts are past a ``days``-day retention."""
    return ((moment or datetime.now(UTC)) - timedelta(days=days)).isoformat(timespec="seconds")


def retention_days(config: dict[str, Any]) -> int:
    """``RESIDENT_TEXT_RETENTION_DAYS`` as whole days; a clear error for anything else."""
    value = config["RESIDENT_TEXT_RETENTION_DAYS"]
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"RESIDENT_TEXT_RETENTION_DAYS must be a whole number of days (1 or more), not {value!r}"
        )
    return value


def purge_old_texts(db: Database, days: int) -> int:
    """Remove the text of every turn older than ``days`` days; how many texts went.

    The turns themselves stay (kind, entry, score, time), so counts do not change. Run at
    start, by ``flask residents purge`` and daily by the scheduler.
    """
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"the retention must be a whole number of days (1 or more), not {days!r}")
    with write(db):
        cursor = db.execute(
            "UPDATE turns SET text = NULL WHERE text IS NOT NULL AND at < ?",
            [retention_cutoff(days)],
        )
    return cursor.rowcount


def forget_texts(db: Database, residents: Sequence[str]) -> int:
    """Remove the texts of ``residents``' turns and unlink the turns from them; how many.

    What stays is anonymous: a turn of some kind at some time, for the counts.
    """
    marks = ",".join("?" for _ in residents)
    with write(db):
        cursor = db.execute(
            f"UPDATE turns SET text = NULL, resident = NULL WHERE resident IN ({marks})",
            list(residents),
        )
    return cursor.rowcount


def resident_turns(db: Database, residents: Sequence[str]) -> list[dict[str, Any]]:
    """Every turn held about ``residents``, oldest first, with the entry's question."""
    marks = ",".join("?" for _ in residents)
    rows = db.query(
        "SELECT turns.id, turns.at, turns.channel, turns.kind, turns.text, turns.entry_id, "
        "turns.helpful, entries.question AS entry_question FROM turns "
        f"LEFT JOIN entries ON entries.id = turns.entry_id WHERE resident IN ({marks}) "
        "ORDER BY turns.id",
        list(residents),
    )
    return list(rows)


def last_answer_turn(db: Database, resident: str, entry_id: int) -> int | None:
    """The id of the latest turn that gave ``resident`` the answer of ``entry_id``, if any."""
    row = db.execute(
        "SELECT max(id) FROM turns WHERE resident = ? AND entry_id = ? AND kind IN (?, ?)",
        [resident, entry_id, *ANSWERED_KINDS],
    ).fetchone()
    return row[0]


def rate_answer(db: Database, *, channel: str, resident: str, entry_id: int, helpful: bool) -> bool:
    """Record 👍 (``helpful``) or 👎 on the answer ``resident`` last got from ``entry_id``.

    One rating per answer: a second click after the same answer changes the rating.
    False when ``resident`` was never given that entry's answer (nothing is stored).
    """
    with write(db):
        answered = last_answer_turn(db, resident, entry_id)
        if answered is None:
            return False
        rated = db.execute(
            "SELECT id FROM turns WHERE resident = ? AND entry_id = ? AND kind = 'feedback' "
            "AND id > ? AND text IS NULL",
            [resident, entry_id, answered],
        ).fetchone()
        if rated is not None:
            db.execute("UPDATE turns SET helpful = ? WHERE id = ?", [int(helpful), rated[0]])
            return True
        record_turn(
            db,
            channel=channel,
            kind="feedback",
            resident=resident,
            text=None,
            entry_id=entry_id,
            helpful=helpful,
        )
    return True


def unhelpful_counts(db: Database) -> dict[int, tuple[int, int]]:
    """entry id → (👎 count, times answered), for every entry answered or rated."""
    rows = db.execute(
        "SELECT entry_id, sum(kind = 'feedback' AND helpful = 0), "
        "sum(kind IN ('answer', 'selection')) FROM turns WHERE entry_id IS NOT NULL "
        "GROUP BY entry_id"
    ).fetchall()
    return {entry_id: (int(down or 0), int(answered or 0)) for entry_id, down, answered in rows}
