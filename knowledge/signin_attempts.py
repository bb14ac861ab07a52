"""Failed staff sign-ins, counted in the database so that every worker sees the same count.

Three limits, so that guessing is slow but nobody is locked out by someone else's guessing:

- per account *and* address: after 5 failures in a row (in the last day) each further try
  from that address for that account waits twice as long as the last — 30 s, 1 min, 2 min …
  up to an hour. Another address (the real colleague at their own desk) is not affected.
- per address, whatever account it tries: after 30 failures in an hour it waits until the
  hour has passed, so one address cannot work through a list of names.
- per account, from every address: after 100 failures in an hour, addresses that have not
  signed in to that account successfully in the last 30 days wait until the hour has
  passed; addresses it was used from before still get in. This caps guessing from many
  addresses without locking the account's owner out.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlite_utils import Database

from knowledge.db import write

FREE_FAILURES = 5
FIRST_WAIT = 30.0
LONGEST_WAIT = 3600.0
PAIR_MEMORY = 24 * 3600.0
ADDRESS_LIMIT = 30
ACCOUNT_LIMIT = 100
WINDOW = 3600.0
KNOWN_ADDRESS_MEMORY = 30 * 24 * 3600.0
MAX_ACCOUNT_CHARS = 100


@dataclass(frozen=True)
class SigninWait:
    """How long a sign-in must wait (``seconds`` 0: it may try now) and why, for the log."""

    seconds: int
    reason: str = ""


def _account(name: str) -> str:
    return name.strip()[:MAX_ACCOUNT_CHARS]


def _pair_wait(db: Database, account: str, address: str, now: float) -> float:
    last_success = db.execute(
        "SELECT max(at) FROM signin_attempts WHERE account = ? AND address = ? AND succeeded = 1",
        [account, address],
    ).fetchone()[0]
    since = max(now - PAIR_MEMORY, last_success or 0.0)
    count, last_failure = db.execute(
        "SELECT count(*), max(at) FROM signin_attempts "
        "WHERE account = ? AND address = ? AND succeeded = 0 AND at > ?",
        [account, address, since],
    ).fetchone()
    if count < FREE_FAILURES:
        return 0.0
    return last_failure + min(FIRST_WAIT * 2 ** (count - FREE_FAILURES), LONGEST_WAIT) - now


def _window_wait(db: Database, column: str, value: str, limit: int, now: float) -> float:
    """Seconds until fewer than ``limit`` failures for ``column = value`` are in the window."""
    rows = db.execute(
        f"SELECT at FROM signin_attempts WHERE {column} = ? AND succeeded = 0 AND at > ? "
        "ORDER BY at DESC LIMIT 1 OFFSET ?",
        [value, now - WINDOW, limit - 1],
    ).fetchone()
    return 0.0 if rows is None else rows[0] + WINDOW - now


def _known_address(db: Database, account: str, address: str, now: float) -> bool:
    return (
        db.execute(
            "SELECT 1 FROM signin_attempts WHERE account = ? AND address = ? AND succeeded = 1 "
            "AND at > ? LIMIT 1",
            [account, address, now - KNOWN_ADDRESS_MEMORY],
        ).fetchone()
        is not None
    )


def signin_wait(db: Database, name: str, address: str, now: float | None = None) -> SigninWait:
    """How long a sign-in as ``name`` from ``address`` must wait before it is even checked."""
    now = time.time() if now is None else now
    account = _account(name)
    waits = [
        (_pair_wait(db, account, address, now), "account and address"),
        (_window_wait(db, "address", address, ADDRESS_LIMIT, now), "address"),
    ]
    if not _known_address(db, account, address, now):
        waits.append((_window_wait(db, "account", account, ACCOUNT_LIMIT, now), "account"))
    seconds, reason = max(waits)
    return SigninWait(math.ceil(seconds), reason) if seconds > 0 else SigninWait(0)


def note_signin(
    db: Database, name: str, address: str, succeeded: bool, now: float | None = None
) -> None:
    """Record one sign-in attempt, forgetting attempts older than the longest memory."""
    now = time.time() if now is None else now
    with write(db):
        db.execute("DELETE FROM signin_attempts WHERE at < ?", [now - KNOWN_ADDRESS_MEMORY])
        db["signin_attempts"].insert(
            {
                "account": _account(name),
                "address": address,
                "at": now,
                "succeeded": int(succeeded),
            }
        )
