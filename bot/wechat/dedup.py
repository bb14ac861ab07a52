"""The record of WeChat messages already answered, so that a retry is never processed twice.

WeChat retries a message up to three times, about five seconds apart. A message's row in
``processed_messages`` is written once, in the same short transaction as everything else
the message changes (dialogue state, rate counters, the turn: ``bot.responder``), by
:func:`record_answer`: it inserts the row with the reply (INSERT OR IGNORE on the unique
key). Two workers that raced on one message both ran the dialogue, but only the first to
commit recorded anything; the second finds the row answered, rolls its whole write back
(:class:`AnsweredElsewhere`) and sends the first one's reply. A worker killed before its
write leaves nothing: the retry processes the message afresh.

A row whose ``reply`` is NULL is a claim: left by a request whose dialogue outran the
reply deadline (:func:`claim_message`), so that WeChat's retries wait for that dialogue
instead of repeating it. A claim names its owner and holds a lease: a retry that finds one
older than the lease presumes the owner dead and answers itself; whichever answer is
recorded first is kept. An empty reply means "nothing to say" (WeChat gets "success").
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

ClaimStatus = Literal["new", "claimed", "taken_over", "answered", "in_progress"]


class AnsweredElsewhere(Exception):
    """Another worker recorded its answer to this message first: ``reply`` is what it said."""

    def __init__(self, reply: str) -> None:
        super().__init__("another worker answered this message first")
        self.reply = reply


@dataclass(frozen=True)
class Claim:
    """Where a message stands (:func:`look_up_message`, :func:`claim_message`).

    New (never seen), claimed (by this call), taken over (an unanswered claim whose lease
    ended: ``previous_owner`` and ``age``, seconds since it was made), answered (with the
    ``reply``) or in progress (with when its lease ends, epoch seconds).
    """

    status: ClaimStatus
    reply: str | None = None
    lease_ends: float | None = None
    previous_owner: str | None = None
    age: float | None = None


def claim_owner() -> str:
    """A new owner name for one claim: host, process id and a random part."""
    return f"{socket.gethostname()[:40]}/{os.getpid()}/{secrets.token_hex(4)}"


def look_up_message(db: Database, key: str, lease: float, now: float | None = None) -> Claim:
    """Where the message ``key`` stands, read without a transaction.

    An unanswered claim older than ``lease`` seconds is reported as taken over: the caller
    answers it (its write completes the claim, :func:`record_answer`).
    """
    now = time.time() if now is None else now
    row = db.execute(
        "SELECT reply, owner, coalesce(claimed_at, created_at) FROM processed_messages"
        " WHERE key = ?",
        [key],
    ).fetchone()
    if row is None:
        return Claim("new")
    reply, owner, claimed_at = row
    if reply is not None:
        return Claim("answered", reply)
    if now - claimed_at < lease:
        return Claim("in_progress", lease_ends=claimed_at + lease)
    return Claim("taken_over", previous_owner=owner, age=now - claimed_at)


def record_answer(db: Database, key: str, owner: str, reply: str, now: float | None = None) -> None:
    """Record ``reply`` as the answer to ``key``, inside the caller's write transaction.

    Completes an unanswered claim (``owner``'s own, or one whose owner is slow or dead:
    the first answer recorded is the one kept). Raises :class:`AnsweredElsewhere` when
    the message is answered already; the caller rolls its write back.
    """
    now = time.time() if now is None else now
    inserted = db.execute(
        "INSERT OR IGNORE INTO processed_messages (key, reply, created_at, owner, claimed_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [key, reply, now, owner, now],
    ).rowcount
    if inserted:
        return
    (stored,) = db.execute("SELECT reply FROM processed_messages WHERE key = ?", [key]).fetchone()
    if stored is not None:
        raise AnsweredElsewhere(stored)
    db.execute(
        "UPDATE processed_messages SET reply = ?, owner = ? WHERE key = ?", [reply, owner, key]
    )


def claim_message(
    db: Database, key: str, owner: str, lease: float, now: float | None = None
) -> Claim:
    """Leave ``owner``'s claim on the message ``key`` (a write), or report who has it.

    For a dialogue that outran the reply deadline: its retries then wait for it. Claimed
    (new), taken over (an unanswered claim older than ``lease`` seconds), answered (with
    the reply) or in progress (with when its lease ends). Raises
    ``sqlite3.OperationalError`` if the database stays locked past the busy timeout.
    """
    now = time.time() if now is None else now
    with write(db):
        inserted = db.execute(
            "INSERT OR IGNORE INTO processed_messages (key, reply, created_at, owner, claimed_at)"
            " VALUES (?, NULL, ?, ?, ?)",
            [key, now, owner, now],
        ).rowcount
        if inserted:
            return Claim("claimed")
        found = look_up_message(db, key, lease, now)
        if found.status == "taken_over":
            db.execute(
                "UPDATE processed_messages SET owner = ?, claimed_at = ? WHERE key = ?",
                [owner, now, key],
            )
    return found


def purge_processed_messages(db: Database, now: float | None = None) -> int:
    """Delete records older than :data:`RETENTION_SECONDS`; how many went.

    Called at app start, on each worker's purge timer and by the scheduler's daily
    housekeeping, so that no resident's reply is kept past a day.
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


def release_claim(db: Database, key: str, owner: str) -> None:
    """Give up ``owner``'s unanswered claim (its dialogue failed) so a retry processes it afresh."""
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
