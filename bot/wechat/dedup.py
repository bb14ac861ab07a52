"""The record of WeChat messages already taken on, so that a retry is never processed twice.

WeChat retries a message up to three times. Whichever request (in any worker process)
first inserts the message's key in ``processed_messages`` owns it: it runs the dialogue
and stores the reply text. Every other request for that key returns the stored reply,
or waits briefly for it while the owner is still at work. A row whose ``reply`` is NULL
is a claim in progress; an empty reply means "nothing to say" (WeChat gets "success").
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from sqlite_utils import Database

from knowledge.db import write

#: Records older than this are purged (WeChat's retries all come within a minute).
RETENTION_SECONDS = 24 * 3600
POLL_SECONDS = 0.02

ClaimStatus = Literal["claimed", "answered", "in_progress"]


@dataclass(frozen=True)
class Claim:
    """The outcome of :func:`claim_message`; ``reply`` is set when ``status`` is answered."""

    status: ClaimStatus
    reply: str | None = None


def claim_message(db: Database, key: str, now: float | None = None) -> Claim:
    """Take on the message ``key``, or report who has it: answered (with reply) or in progress.

    Purges records older than :data:`RETENTION_SECONDS` in the same transaction.
    Raises ``sqlite3.OperationalError`` if the database stays locked past the busy timeout.
    """
    now = time.time() if now is None else now
    with write(db):
        db.execute("DELETE FROM processed_messages WHERE created_at < ?", [now - RETENTION_SECONDS])
        inserted = db.execute(
            "INSERT OR IGNORE INTO processed_messages (key, reply, created_at) VALUES (?, NULL, ?)",
            [key, now],
        ).rowcount
        if inserted:
            return Claim("claimed")
        reply = stored_reply(db, key)
    return Claim("in_progress") if reply is None else Claim("answered", reply)


def stored_reply(db: Database, key: str) -> str | None:
    """The reply recorded for ``key`` (``""`` for "success"), or None if there is none yet."""
    row = db.execute("SELECT reply FROM processed_messages WHERE key = ?", [key]).fetchone()
    return None if row is None else row[0]


def record_reply(db: Database, key: str, reply: str) -> None:
    """Store the reply to the claimed message ``key`` for its retries."""
    with write(db):
        db.execute("UPDATE processed_messages SET reply = ? WHERE key = ?", [reply, key])


def release_claim(db: Database, key: str) -> None:
    """Give up an unanswered claim (the dialogue failed) so that a retry processes it afresh."""
    with write(db):
        db.execute("DELETE FROM processed_messages WHERE key = ? AND reply IS NULL", [key])


def wait_for_reply(db: Database, key: str, seconds: float) -> str | None:
    """Poll for the reply to ``key`` for at most ``seconds``; None if it is still not there."""
    give_up = time.monotonic() + seconds
    while True:
        reply = stored_reply(db, key)
        if reply is not None or time.monotonic() >= give_up:
            return reply
        time.sleep(min(POLL_SECONDS, max(0.0, give_up - time.monotonic())))
