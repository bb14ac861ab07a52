"""The questions Pufa could not answer directly, for the staff's review.

A view over the record of turns (``knowledge.turns``): the choices and fallback turns (and
the questions whose choices a resident declined with "0") whose text is still held and that
staff have not handled, newest first; also as a CSV for Excel.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from knowledge.spreadsheet import spreadsheet_row
from knowledge.store import local_time

#: Which turns are in the queue: choices, fallbacks or declined choices whose text is
#: still held and that no one has handled yet (``knowledge.unanswered_groups``).
OPEN_QUEUE = (
    "kind IN ('choices', 'fallback', 'declined') AND text IS NOT NULL AND handling_id IS NULL"
)


def recent_unanswered(db: Database, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """The latest open unanswered questions, newest first (skipping ``offset``), decoded."""
    rows = db.query(
        "SELECT id, text, kind, at AS asked_at, candidates FROM turns "
        f"WHERE {OPEN_QUEUE} ORDER BY id DESC LIMIT ? OFFSET ?",
        [limit, offset],
    )
    return [{**row, "candidates": json.loads(row["candidates"] or "[]")} for row in rows]


def count_unanswered(db: Database) -> int:
    """How many open unanswered questions there are."""
    return db.execute(f"SELECT count(*) FROM turns WHERE {OPEN_QUEUE}").fetchone()[0]


KIND_NAMES = {"choices": "给了选项", "fallback": "没答上", "declined": "选项都不是"}
CSV_HEADER = ["时间（北京）", "处理", "居民的问题", "最接近的条目", "得分"]


def unanswered_table(db: Database, limit: int) -> list[list[str]]:
    """The latest ``limit`` unanswered questions as rows of :data:`CSV_HEADER`, newest first."""
    rows = []
    for row in recent_unanswered(db, limit):
        best = row["candidates"][0] if row["candidates"] else {}
        rows.append(
            [
                local_time(row["asked_at"]),
                KIND_NAMES.get(row["kind"], row["kind"]),
                row["text"],
                str(best.get("question", "")),
                f"{best['score']:.2f}" if "score" in best else "",
            ]
        )
    return rows


def unanswered_csv(db: Database, limit: int) -> tuple[str, int]:
    """The latest ``limit`` unanswered questions as CSV text with a header, and how many.

    Cells a spreadsheet would run as a formula are kept as text
    (:mod:`knowledge.spreadsheet`). Encode it as ``utf-8-sig``: Excel only reads a CSV as
    UTF-8 when it starts with a BOM.
    """
    rows = unanswered_table(db, limit)
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    writer.writerows(spreadsheet_row(row) for row in rows)
    return out.getvalue(), len(rows)


def export_unanswered(db: Database, path: Path, limit: int) -> int:
    """Write the latest ``limit`` unanswered questions to a CSV file Excel opens; how many.

    Raises :class:`OSError` when the file cannot be written.
    """
    text, count = unanswered_csv(db, limit)
    path.write_text(text, encoding="utf-8-sig", newline="")
    return count
