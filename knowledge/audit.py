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


@dataclass(frozen=True)
class AuditFilter:
    """Which lines of the audit log to show; every field left None matches everything.

    ``since`` and ``until`` are UTC timestamps as stored (``until`` is exclusive).
    """

    actor: str | None = None
    object_type: str | None = None
    object_id: str | int | None = None
    action: str | None = None
    since: str | None = None
    until: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The SQL ``WHERE`` clause (or "") and its parameters."""
        clauses, params = [], []
        for column, value in (
            ("actor", self.actor),
            ("object_type", self.object_type),
            ("object_id", None if self.object_id is None else str(self.object_id)),
            ("action", self.action),
        ):
            if value:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.since:
            clauses.append("at >= ?")
            params.append(self.since)
        if self.until:
            clauses.append("at < ?")
            params.append(self.until)
        return (f"WHERE {' AND '.join(clauses)}" if clauses else ""), params


def list_audit(
    db: Database,
    *,
    actor: str | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    action: str | None = None,
    limit: int = 100,
    offset: int = 0,
    where: AuditFilter | None = None,
) -> list[AuditRecord]:
    """The newest lines first, filtered by ``where`` or whichever of the arguments are given."""
    where = where or AuditFilter(actor, object_type, object_id, action)
    clause, params = where.where()
    rows = db.execute(
        f"SELECT * FROM audit_log {clause} ORDER BY id DESC LIMIT ? OFFSET ?",
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


def count_audit(db: Database, where: AuditFilter | None = None) -> int:
    """How many lines of the audit log ``where`` matches."""
    clause, params = (where or AuditFilter()).where()
    return db.execute(f"SELECT count(*) FROM audit_log {clause}", params).fetchone()[0]


def audit_values(db: Database, column: str) -> list[str]:
    """The distinct values of ``column`` (actor, action, object_type), for filter menus."""
    if column not in ("actor", "action", "object_type"):
        raise ValueError(column)
    return [row[0] for row in db.execute(f"SELECT DISTINCT {column} FROM audit_log ORDER BY 1")]
