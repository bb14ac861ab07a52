"""The audit log: who changed what and when, append-only (the database refuses edits)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from knowledge.db import write
from knowledge.store import now


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log."""

    id: int
    at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    summary: str
    before: Any
    after: Any


def record_audit(
    db: Database,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int | None = None,
    summary: str = "",
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one line; call it inside the same write transaction as the change it records."""
    with write(db):
        db["audit_log"].insert(
            {
                "at": now(),
                "actor": actor,
                "action": action,
                "object_type": object_type,
                "object_id": None if object_id is None else str(object_id),
                "summary": summary,
                "before": None if before is None else json.dumps(before, ensure_ascii=False),
                "after": None if after is None else json.dumps(after, ensure_ascii=False),
            }
        )


def list_audit(
    db: Database,
    *,
    actor: str | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditRecord]:
    """The newest lines first, filtered by whichever of the arguments are given."""
    clauses, params = [], []
    for column, value in (
        ("actor", actor),
        ("object_type", object_type),
        ("object_id", None if object_id is None else str(object_id)),
        ("action", action),
    ):
        if value:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = db.execute(
        f"SELECT * FROM audit_log {where} ORDER BY id DESC LIMIT ? OFFSET ?",
        [*params, limit, offset],
    ).fetchall()
    columns = [d[0] for d in db.execute("SELECT * FROM audit_log LIMIT 0").description]
    records = []
    for row in rows:
        values = dict(zip(columns, row, strict=True))
        for key in ("before", "after"):
            values[key] = None if values[key] is None else json.loads(values[key])
        records.append(AuditRecord(**values))
    return records
