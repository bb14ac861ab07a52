"""Plain mode's guard against a signed query string reused for another body.

In plain mode WeChat signs only (token, timestamp, nonce), not the body, so anyone who saw
one request could send any body under its query string while the timestamp is in the
window. Each triple is recorded with the sha256 of the body it first came with, in the
database (shared by every worker) until its timestamp leaves the window: WeChat's own
retries resend the same body and pass; a different body is refused with 403. Safe mode
signs the encrypted body itself and needs none of this.
"""

from __future__ import annotations

import hashlib
import time

from sqlite_utils import Database

from bot.wechat.security import RejectedRequest
from knowledge.db import write

#: How long a triple is kept when the timestamp window is off (seconds).
UNWINDOWED_RETENTION = 600.0


def check_plain_signature_reuse(
    db: Database,
    timestamp: str,
    nonce: str,
    signature: str,
    body: bytes,
    window: float,
    now: float | None = None,
) -> None:
    """Record the body signed by (``timestamp``, ``nonce``, ``signature``) on first sight;
    refuse (403) a different body under the same triple later.

    ``window`` is WECHAT_TIMESTAMP_WINDOW: past ``timestamp + window`` the triple is refused
    anyway, so the record is kept until then. Raises ``sqlite3.OperationalError`` if the
    database stays locked past the busy timeout.
    """
    now = time.time() if now is None else now
    triple = "\0".join((timestamp, nonce, signature)).encode("utf-8", "replace")
    key = hashlib.sha256(triple).hexdigest()
    digest = hashlib.sha256(body).hexdigest()
    expires_at = max(now, int(timestamp) + window) if window > 0 else now + UNWINDOWED_RETENTION
    with write(db):
        purge_plain_signatures(db, now)
        inserted = db.execute(
            "INSERT OR IGNORE INTO plain_signatures (key, body_sha256, expires_at)"
            " VALUES (?, ?, ?)",
            [key, digest, expires_at],
        ).rowcount
        if inserted:
            return
        (first,) = db.execute(
            "SELECT body_sha256 FROM plain_signatures WHERE key = ?", [key]
        ).fetchone()
    if first != digest:
        raise RejectedRequest(403, "plain-mode signature already used for a different body")


def purge_plain_signatures(db: Database, now: float | None = None) -> int:
    """Delete the triples whose timestamp has left the window; how many went."""
    now = time.time() if now is None else now
    with write(db):
        return db.execute("DELETE FROM plain_signatures WHERE expires_at < ?", [now]).rowcount
