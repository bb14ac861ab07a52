"""Finding entries for staff: text search over question, alternates and answer, with filters.

Both the entry and its pending draft are searched, and the status filter reads the review
workflow's view (an entry whose change waits for review counts as 待审核).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from knowledge.entries import Entry
from knowledge.store import row_to_entry

MAX_SEARCH_CHARS = 100
_STATUS_CLAUSES = {
    "draft": "(d.state = 'draft' OR (d.state IS NULL AND e.status = 'draft'))",
    "in_review": "(d.state = 'in_review' OR (d.state IS NULL AND e.status = 'in_review'))",
    "published": "e.status = 'published'",
    "archived": "e.status = 'archived'",
}
_SEARCHED = ("question", "alternates", "answer")


@dataclass(frozen=True)
class Listed:
    """An entry in a staff list, with the state of its pending draft (if any)."""

    entry: Entry
    draft_state: str | None


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_entries(
    db: Database,
    text: str = "",
    status: str | None = None,
    topic: str | None = None,
    limit: int = 30,
    offset: int = 0,
) -> tuple[list[Listed], int]:
    """One page of the entries that match, by id, and how many match in all."""
    clauses, params = [], []
    text = text.strip()[:MAX_SEARCH_CHARS]
    if text:
        columns = [f"{table}.{name}" for table in ("e", "d") for name in _SEARCHED]
        clauses.append(
            "(" + " OR ".join(f"{column} LIKE ? ESCAPE '\\'" for column in columns) + ")"
        )
        params.extend([_like(text)] * len(columns))
    if status is not None:
        clauses.append(_STATUS_CLAUSES[status])
    if topic is not None:
        clauses.append("coalesce(d.topic, e.topic) = ?")
        params.append(topic)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    joined = f"FROM entries e LEFT JOIN entry_drafts d ON d.entry_id = e.id {where}"
    total = db.execute(f"SELECT count(*) {joined}", params).fetchone()[0]
    rows = db.query(
        f"SELECT e.*, d.state AS draft_state {joined} ORDER BY e.id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return [Listed(row_to_entry(row), row["draft_state"]) for row in rows], total
