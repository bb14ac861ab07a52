"""The log of questions Pufa could not answer directly, for the staff's review."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from knowledge.db import write
from knowledge.store import now


def log_unanswered(
    db: Database, text: str, kind: str, user: str | None, candidates: list[dict[str, Any]]
) -> None:
    """Record a choices or fallback turn: the text, when, who, and the top candidates."""
    with write(db):
        db["unanswered"].insert(
            {
                "text": text[:500],
                "kind": kind,
                "user": user,
                "asked_at": now(),
                "candidates": json.dumps(candidates, ensure_ascii=False),
            }
        )


def recent_unanswered(db: Database, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """The latest unanswered questions, newest first (skipping ``offset``), candidates decoded."""
    rows = db.query("SELECT * FROM unanswered ORDER BY id DESC LIMIT ? OFFSET ?", [limit, offset])
    return [{**row, "candidates": json.loads(row["candidates"] or "[]")} for row in rows]


def count_unanswered(db: Database) -> int:
    """How many unanswered questions are logged."""
    return db.execute("SELECT count(*) FROM unanswered").fetchone()[0]
