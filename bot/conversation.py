"""Per-resident dialogue state (pending choices, the rest of a long answer, the last answer).

It lives in the database so every worker sees it, and it expires: a "2" sent an hour
after a list of choices is a new question, not a selection. ``user`` is always a resident
key (``knowledge.residents.resident_key``: ``wx:…``, ``api:…``, ``web:…``), never a raw
OpenID; the empty key is a caller with no identity, whose every message stands alone.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlite_utils import Database

from knowledge.db import write


def load_state(db: Database, user: str) -> dict[str, Any]:
    """The resident's state, or an empty one if there is none, it has expired or ``user`` is ""."""
    if not user:
        return {}
    row = db.execute(
        "SELECT state, expires_at FROM conversations WHERE user = ?", [user]
    ).fetchone()
    if row is None or row[1] < time.time():
        return {}
    return json.loads(row[0])


def save_state(db: Database, user: str, state: dict[str, Any], ttl_seconds: float) -> None:
    """Replace the resident's state in a write of its own (:func:`put_state`)."""
    if not user:
        return
    with write(db):
        put_state(db, user, state, ttl_seconds)


def put_state(db: Database, user: str, state: dict[str, Any], ttl_seconds: float) -> None:
    """Replace the resident's state inside the caller's write; it expires ``ttl_seconds``
    from now (nothing kept for "").

    Plain SQL rather than sqlite-utils' ``upsert``, whose first use on a connection probes
    the SQLite version by creating and dropping a table.
    """
    if not user:
        return
    db.execute(
        "INSERT INTO conversations (user, state, expires_at) VALUES (?, ?, ?) "
        "ON CONFLICT(user) DO UPDATE SET state = excluded.state, expires_at = excluded.expires_at",
        [user, json.dumps(state, ensure_ascii=False), time.time() + ttl_seconds],
    )


def stored_state(db: Database, user: str) -> dict[str, Any] | None:
    """What is held as ``user``'s state, expired or not, with when it expires; None if nothing."""
    row = db.execute(
        "SELECT state, expires_at FROM conversations WHERE user = ?", [user]
    ).fetchone()
    return None if row is None else {"state": json.loads(row[0]), "expires_at": row[1]}


def forget_state(db: Database, users: list[str]) -> int:
    """Delete the dialogue state of ``users``; how many states there were."""
    marks = ",".join("?" for _ in users)
    with write(db):
        return db.execute(f"DELETE FROM conversations WHERE user IN ({marks})", users).rowcount
