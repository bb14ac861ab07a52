"""The record of WeChat messages already taken on, so that a retry is never processed twice.

WeChat retries a message up to three times, about five seconds apart. Whichever request
(in any worker process) first inserts the message's key in ``processed_messages`` owns
it: it runs the dialogue and stores the reply text. Every other request for that key
returns the stored reply, or waits briefly for it while the owner is still at work. A row
whose ``reply`` is NULL is a claim in progress; an empty reply means "nothing to say"
(WeChat gets "success").

A claim names its owner and holds a lease: a worker killed between claim and reply leaves
a claim nobody will finish, so a retry that finds one older than the lease takes it over
and answers. The late owner, if it was only slow, then finds the claim is no longer its
own and stores nothing.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from dataclasses import dataclass
from typing import Any, Literal

from sqlite_utils import Database

from knowledge.db import write

#: Records older than this are purged (WeChat's retries all come within a minute).
RETENTION_SECONDS = 24 * 3600
POLL_SECONDS = 0.02

ClaimStatus = Literal["claimed", "taken_over", "answered", "in_progress"]


@dataclass(frozen=True)
class Claim:
    """The outcome of :func:`claim_message`.

    ``reply`` is set when answered; ``lease_ends`` (epoch seconds) when in progress;
    ``previous_owner`` and ``age`` (seconds since the old claim) when taken over.
    """

    status: ClaimStatus
    reply: str | None = None
    lease_ends: float | None = None
    previous_owner: str | None = None
    age: float | None = None


def claim_owner() -> str:
    """A new owner name for one claim: host, process id and a random part."""
    return f"{socket.gethostname()[:40]}/{os.getpid()}/{secrets.token_hex(4)}"


def claim_message(
    db: Database, key: str, owner: str, lease: float, now: float | None = None
) -> Claim:
    """Take on the message ``key`` for ``owner``, or report who has it.

    Claimed (new), taken over (an unanswered claim older than ``lease`` seconds, whose
    owner is presumed dead), answered (with the reply) or in progress (with when its
    lease ends). Purges records older than :data:`RETENTION_SECONDS` in the same
    transaction. Raises ``sqlite3.OperationalError`` if the database stays locked past
    the busy timeout.
    """
    now = time.time() if now is None else now
    with write(db):
        purge_processed_messages(db, now)
        inserted = db.execute(
            "INSERT OR IGNORE INTO processed_messages (key, reply, created_at, owner, claimed_at)"
            " VALUES (?, NULL, ?, ?, ?)",
            [key, now, owner, now],
        ).rowcount
        if inserted:
            return Claim("claimed")
        reply, previous, claimed_at = db.execute(
            "SELECT reply, owner, coalesce(claimed_at, created_at) FROM processed_messages"
            " WHERE key = ?",
            [key],
        ).fetchone()
        if reply is not None:
            return Claim("answered", reply)
        if now - claimed_at < lease:
            return Claim("in_progress", lease_ends=claimed_at + lease)
        db.execute(
            "UPDATE processed_messages SET owner = ?, claimed_at = ? WHERE key = ?",
            [owner, now, key],
        )
    return Claim("taken_over", previous_owner=previous, age=now - claimed_at)


def purge_processed_messages(db: Database, now: float | None = None) -> int:
    """Delete records older than :data:`RETENTION_SECONDS`; how many went.

    Called on every claim, at app start, on each worker's purge timer and by the
    scheduler's daily housekeeping, so that no resident's reply is kept past a day.
    """
    now = time.time() if now is None else now
    with write(db):
        return db.execute(
            "DELETE FROM processed_messages WHERE created_at < ?", [now - RETENTION_SECONDS]
        ).rowcount


def stored_reply(db: Database, key: str) -> str | None:
    """The reply recorded for ``key`` (``""`` for "success"), or None if there is none yet."""
    row = db.execute("SELECT reply FROM processed_messages WHERE key = ?", [key]).fetchone()
    return None if row is None else row[0]


def record_reply(db: Database, key: str, owner: str, reply: str) -> bool:
    """Store the reply to ``key`` for its retries, if ``owner`` still holds the claim.

    False when a retry took the claim over (its own reply is the one kept).
    """
    with write(db):
        return (
            db.execute(
                "UPDATE processed_messages SET reply = ? "
                "WHERE key = ? AND owner = ? AND reply IS NULL",
                [reply, key, owner],
            ).rowcount
            == 1
        )


def release_claim(db: Database, key: str, owner: str) -> None:
    """Give up ``owner``'s unanswered claim (the dialogue failed) so a retry processes it afresh."""
    with write(db):
        db.execute(
            "DELETE FROM processed_messages WHERE key = ? AND owner = ? AND reply IS NULL",
            [key, owner],
        )


def wait_for_reply(db: Database, key: str, seconds: float) -> str | None:
    """Poll for the reply to ``key`` for at most ``seconds``; None if it is still not there."""
    give_up = time.monotonic() + seconds
    while True:
        reply = stored_reply(db, key)
        if reply is not None or time.monotonic() >= give_up:
            return reply
        time.sleep(min(POLL_SECONDS, max(0.0, give_up - time.monotonic())))


def _of_residents(residents: list[str]) -> tuple[str, list[str]]:
    """The WHERE clause and parameters for the records of ``residents`` (their keys)."""
    clause = " OR ".join("key LIKE ? OR key LIKE ?" for _ in residents)
    return clause, [f"{kind}:{key}:%" for key in residents for kind in ("msg", "event")]


def resident_replies(db: Database, residents: list[str]) -> list[dict[str, Any]]:
    """The replies kept for WeChat's retries of ``residents``' messages (kept up to a day)."""
    clause, params = _of_residents(residents)
    return list(
        db.query(f"SELECT key, reply, created_at FROM processed_messages WHERE {clause}", params)
    )


def forget_resident_replies(db: Database, residents: list[str]) -> int:
    """Delete the replies kept for ``residents``' retries; how many."""
    clause, params = _of_residents(residents)
    with write(db):
        return db.execute(f"DELETE FROM processed_messages WHERE {clause}", params).rowcount
