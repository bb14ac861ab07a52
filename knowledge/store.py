"""Entries in the database: create, change, publish, and read back — every change versioned."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlite_utils import Database

from knowledge.db import write
from knowledge.entries import STATUSES, Entry, EntryError, entry_from_record

_LIST_FIELDS = ("alternates", "law_refs", "keywords")
_CONTENT_FIELDS = ("topic", "question", "answer", *_LIST_FIELDS, "status")


SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


class StaleEntryError(RuntimeError):
    """Someone else saved the entry since it was read; the caller must reload it."""


def now() -> str:
    """The current time as an ISO string in UTC, as stored in every table."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def local_time(stamp: str | None) -> str:
    """A stored UTC timestamp as Beijing time, "2025-06-01 14:03" (as stored if unreadable)."""
    if not stamp:
        return ""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def row_to_entry(row: dict[str, Any]) -> Entry:
    """An entry from its row in ``entries`` (list fields decoded from JSON)."""
    return Entry(
        id=row["id"],
        topic=row["topic"],
        question=row["question"],
        answer=row["answer"],
        alternates=json.loads(row["alternates"] or "[]"),
        law_refs=json.loads(row["law_refs"] or "[]"),
        keywords=json.loads(row["keywords"] or "[]"),
        status=row["status"],
        version=row["version"],
        updated_by=row["updated_by"],
        updated_at=row["updated_at"],
    )


def _columns(entry: Entry) -> dict[str, Any]:
    data = asdict(entry)
    return {
        name: json.dumps(data[name], ensure_ascii=False) if name in _LIST_FIELDS else data[name]
        for name in _CONTENT_FIELDS
    }


def content_generation(db: Database) -> int:
    """A counter that grows whenever published content or synonyms change."""
    row = db.execute("SELECT value FROM meta WHERE key = 'content_generation'").fetchone()
    return row[0] if row else 0


def bump_content_generation(db: Database) -> None:
    """Tell every worker's matcher that published content changed (call inside a write)."""
    db.execute("UPDATE meta SET value = value + 1 WHERE key = 'content_generation'")


def _keep_version(
    db: Database, entry_id: int, version: int, columns: dict, by: str, at: str
) -> None:
    db["entry_versions"].insert(
        {"entry_id": entry_id, "version": version, **columns, "changed_by": by, "changed_at": at}
    )


def create_entry(db: Database, entry: Entry, by: str) -> int:
    """Store a new entry as version 1 and return its id."""
    at = now()
    columns = _columns(entry)
    with write(db):
        entry_id = (
            db["entries"]
            .insert({**columns, "version": 1, "created_at": at, "updated_by": by, "updated_at": at})
            .last_pk
        )
        _keep_version(db, entry_id, 1, columns, by, at)
        if entry.status == "published":
            bump_content_generation(db)
    return entry_id


def get_entry(db: Database, entry_id: int) -> Entry | None:
    """The current version of an entry, or None if there is no such entry."""
    rows = list(db.query("SELECT * FROM entries WHERE id = ?", [entry_id]))
    return row_to_entry(rows[0]) if rows else None


def update_entry(
    db: Database,
    entry_id: int,
    changes: dict[str, Any],
    by: str,
    expected_version: int | None = None,
) -> Entry:
    """Apply ``changes`` to an entry as a new version and return it.

    ``expected_version`` guards against lost edits: if the entry moved on since the
    caller read it, :class:`StaleEntryError` is raised and nothing is written.
    Raises :class:`KeyError` for an unknown entry and :class:`EntryError` for bad data.
    """
    with write(db):
        current = get_entry(db, entry_id)
        if current is None:
            raise KeyError(entry_id)
        if expected_version is not None and current.version != expected_version:
            raise StaleEntryError(f"entry {entry_id} is at version {current.version}")
        record = {**asdict(current), **changes}
        topics = {row["key"]: row["name"] for row in db.query("SELECT key, name FROM topics")}
        updated = entry_from_record(record, default_status=current.status, topics=topics)
        columns = _columns(updated)
        version = current.version + 1
        at = now()
        db["entries"].update(
            entry_id, {**columns, "version": version, "updated_by": by, "updated_at": at}
        )
        _keep_version(db, entry_id, version, columns, by, at)
        if "published" in (current.status, updated.status):
            bump_content_generation(db)
    result = get_entry(db, entry_id)
    assert result is not None
    return result


def set_status(db: Database, entry_id: int, status: str, by: str) -> Entry:
    """Move an entry to ``status`` (draft / in_review / published / archived) as a new version."""
    if status not in STATUSES:
        raise EntryError("status", f"未知状态 {status!r}")
    return update_entry(db, entry_id, {"status": status}, by)


def entry_versions(db: Database, entry_id: int) -> list[dict[str, Any]]:
    """Every stored version of an entry, oldest first."""
    return list(
        db.query("SELECT * FROM entry_versions WHERE entry_id = ? ORDER BY version", [entry_id])
    )


def list_entries(db: Database, status: str | None = None) -> list[Entry]:
    """All entries (or those with ``status``), ordered by id."""
    if status is None:
        rows = db.query("SELECT * FROM entries ORDER BY id")
    else:
        rows = db.query("SELECT * FROM entries WHERE status = ? ORDER BY id", [status])
    return [row_to_entry(row) for row in rows]


def published_entries(db: Database) -> list[Entry]:
    """The entries that answer residents."""
    return list_entries(db, "published")


def entries_by_topic(db: Database, topic: str) -> list[Entry]:
    """Published entries of one topic, in the order they were written."""
    rows = db.query(
        "SELECT * FROM entries WHERE status = 'published' AND topic = ? ORDER BY id", [topic]
    )
    return [row_to_entry(row) for row in rows]


def count_entries(db: Database) -> int:
    """How many entries exist in any status."""
    return db.execute("SELECT count(*) FROM entries").fetchone()[0]


def add_entries(db: Database, entries: list[Entry], by: str) -> list[int]:
    """Store several new entries in one transaction (all or nothing); return their ids."""
    with write(db):
        return [create_entry(db, entry, by) for entry in entries]
