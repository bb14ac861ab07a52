"""Plain mode's guard against a signed query string reused for another body.

In plain mode WeChat signs only (token, timestamp, nonce), not the body, so anyone who saw
one request could send any body under its query string while the timestamp is in the
window. Each triple is recorded with the sha256 of the body it first came with, in the
database (shared by every worker) until its timestamp leaves the window: WeChat's own
retries resend the same body and pass; a different body is refused with 403. Safe mode
signs the encrypted body itself and needs none of this.

The record is not kept in memory: the forged request can reach any of the gunicorn
worker processes, so only a record they all share refuses it. It costs no write of its
own either. The triple is first looked up (a read: a different body is refused at once,
the same body needs nothing more); a new triple is inserted in the message's one write
(:func:`record_plain_signature`, with the dedup row and the dialogue's changes), so two
bodies racing under one triple in two workers cannot both be answered: the second write
finds the first's row, rolls back everything and refuses. Messages answered without that
write (events, retries answered from the record) record the triple in a write of their
own (:func:`check_plain_signature_reuse`).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from sqlite_utils import Database

from bot.wechat.security import RejectedRequest
from knowledge.db import write

#: How long a triple is kept when the timestamp window is off (seconds).
UNWINDOWED_RETENTION = 600.0


@dataclass(frozen=True)
class PlainSignature:
    """A signed (timestamp, nonce, signature) triple, hashed, and the body it came with."""

    key: str
    body_sha256: str
    expires_at: float


def plain_signature(
    timestamp: str, nonce: str, signature: str, body: bytes, window: float, now: float | None = None
) -> PlainSignature:
    """The record of ``body`` signed by (``timestamp``, ``nonce``, ``signature``).

    ``window`` is WECHAT_TIMESTAMP_WINDOW: past ``timestamp + window`` the triple is refused
    anyway, so the record is kept until then.
    """
    now = time.time() if now is None else now
    triple = "\0".join((timestamp, nonce, signature)).encode("utf-8", "replace")
    expires_at = max(now, int(timestamp) + window) if window > 0 else now + UNWINDOWED_RETENTION
    return PlainSignature(
        hashlib.sha256(triple).hexdigest(), hashlib.sha256(body).hexdigest(), expires_at
    )


def _refuse_another_body(first: str, signed: PlainSignature) -> None:
    if first != signed.body_sha256:
        raise RejectedRequest(403, "plain-mode signature already used for a different body")


def plain_signature_seen(db: Database, signed: PlainSignature) -> bool:
    """Whether the triple is recorded already, with this body (a read, no transaction).

    Raises :class:`RejectedRequest` (403) when it was recorded with a different body.
    """
    row = db.execute(
        "SELECT body_sha256 FROM plain_signatures WHERE key = ?", [signed.key]
    ).fetchone()
    if row is None:
        return False
    _refuse_another_body(row[0], signed)
    return True


def record_plain_signature(db: Database, signed: PlainSignature) -> None:
    """Record the triple with its body, inside the caller's write transaction.

    Raises :class:`RejectedRequest` (403) when another worker recorded it first with a
    different body; the caller rolls its write back.
    """
    inserted = db.execute(
        "INSERT OR IGNORE INTO plain_signatures (key, body_sha256, expires_at) VALUES (?, ?, ?)",
        [signed.key, signed.body_sha256, signed.expires_at],
    ).rowcount
    if not inserted:
        (first,) = db.execute(
            "SELECT body_sha256 FROM plain_signatures WHERE key = ?", [signed.key]
        ).fetchone()
        _refuse_another_body(first, signed)


def check_plain_signature_reuse(
    db: Database,
    timestamp: str,
    nonce: str,
    signature: str,
    body: bytes,
    window: float,
    now: float | None = None,
) -> None:
    """Record the body signed by (``timestamp``, ``nonce``, ``signature``) on first sight, in
    a write of its own; refuse (403) a different body under the same triple later.

    Raises ``sqlite3.OperationalError`` if the database stays locked past the busy timeout.
    """
    signed = plain_signature(timestamp, nonce, signature, body, window, now)
    if plain_signature_seen(db, signed):
        return
    with write(db):
        record_plain_signature(db, signed)


def purge_plain_signatures(db: Database, now: float | None = None) -> int:
    """Delete the triples whose timestamp has left the window; how many went."""
    now = time.time() if now is None else now
    with write(db):
        return db.execute("DELETE FROM plain_signatures WHERE expires_at < ?", [now]).rowcount
