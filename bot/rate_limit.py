"""How much one caller may ask: messages per minute, and unanswered turns logged per day.

A caller is a resident key (``wx:…``, ``api:…``, ``web:…``) and, for the API and the web
chat, the address the request came from too, so that changing or omitting ``user`` does
not escape the limit. The counters live in the database (``rate_counters``), so every
worker process counts together. Windows are fixed: the minute on the clock, and the day
in Beijing time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Mapping, Sequence

from sqlite_utils import Database

from knowledge.db import write

log = logging.getLogger(__name__)

#: What a resident reads instead of an answer while over the limit.
RATE_LIMITED_TEXT = "您发消息太快了，请休息一下，一分钟后再问。急事请拨打12348法律服务热线。"
MINUTE = 60
DAY = 24 * 3600
#: Beijing is UTC+8: a caller's daily count starts again at local midnight.
BEIJING_OFFSET = 8 * 3600


class RateLimited(Exception):
    """The caller is over its limit; ask again in ``retry_after`` seconds."""

    def __init__(self, limit: int, retry_after: int) -> None:
        super().__init__(f"over {limit} messages a minute; retry after {retry_after} s")
        self.limit = limit
        self.retry_after = retry_after


def address_key(secret: str, address: str) -> str:
    """The counter key for a client address, e.g. ``addr:5c1e…`` (stored hashed, like residents)."""
    digest = hmac.new(secret.encode("utf-8"), address.encode("utf-8", "replace"), hashlib.sha256)
    return f"addr:{digest.hexdigest()[:32]}"


def _count(db: Database, key: str, period: int, expires_at: float) -> int:
    """Add one to ``key``'s counter for ``period`` (starting again in a new period); the count."""
    return db.execute(
        "INSERT INTO rate_counters (key, period, count, expires_at) VALUES (?, ?, 1, ?) "
        "ON CONFLICT(key) DO UPDATE SET "
        "count = CASE WHEN period = excluded.period THEN count + 1 ELSE 1 END, "
        "period = excluded.period, expires_at = excluded.expires_at "
        "RETURNING count",
        [key, period, expires_at],
    ).fetchone()[0]


#: The count of a counter in the given period (no row: none yet this period).
_COUNT_NOW = "SELECT count FROM rate_counters WHERE key = ? AND period = ?"


def over_message_rate(
    db: Database, limits: Mapping[str, int], now: float | None = None
) -> RateLimited | None:
    """Whether one more message would put a caller in ``limits`` over its limit (a read).

    Lets the dialogue skip the matching work for a caller already refused this minute;
    :func:`count_message` decides, in the message's write.
    """
    now = time.time() if now is None else now
    minute = int(now // MINUTE)
    exceeded = [
        per_minute
        for caller, per_minute in limits.items()
        if per_minute > 0
        and (row := db.execute(_COUNT_NOW, [f"min:{caller}", minute]).fetchone()) is not None
        and row[0] >= per_minute
    ]
    if not exceeded:
        return None
    return RateLimited(min(exceeded), max(1, math.ceil((minute + 1) * MINUTE - now)))


def count_message(
    db: Database, limits: Mapping[str, int], now: float | None = None
) -> RateLimited | None:
    """Count one message for each caller in ``limits`` (caller key → messages per minute).

    Call inside the message's write (:func:`knowledge.db.write`). Returns the refusal if
    any caller is now over its limit; a limit of 0 is no limit. The first refusal of a
    minute is logged (once per caller and minute); refusals count too, so a caller cannot
    hammer its way through. Expired counters go on the purge timer
    (:func:`purge_rate_counters`).
    """
    limits = {caller: limit for caller, limit in limits.items() if limit > 0}
    now = time.time() if now is None else now
    minute = int(now // MINUTE)
    ends = (minute + 1) * MINUTE
    exceeded = []
    for caller, per_minute in limits.items():
        count = _count(db, f"min:{caller}", minute, ends)
        if count > per_minute:
            exceeded.append(per_minute)
            if count == per_minute + 1:
                log.warning(
                    "rate limit: %s sent over %d messages this minute; "
                    "the rest of the minute is refused",
                    caller,
                    per_minute,
                )
    if not exceeded:
        return None
    return RateLimited(min(exceeded), max(1, math.ceil(ends - now)))


def take_unanswered_slot(
    db: Database, callers: Sequence[str], per_day: int, now: float | None = None
) -> bool:
    """Whether one more unanswered turn of ``callers`` may go to the staff's queue today.

    Call inside the message's write. Counts the turn for each caller; False once any of
    them is over ``per_day`` turns today (logged once, when it first happens). ``per_day``
    of 0 means no cap.
    """
    if per_day <= 0 or not callers:
        return True
    now = time.time() if now is None else now
    day = int((now + BEIJING_OFFSET) // DAY)
    ends = (day + 1) * DAY - BEIJING_OFFSET
    allowed = True
    for caller in callers:
        count = _count(db, f"day:{caller}", day, ends)
        if count > per_day:
            allowed = False
            if count == per_day + 1:
                log.warning(
                    "unanswered cap: %s reached %d unanswered questions today; "
                    "no more are queued for staff until tomorrow",
                    caller,
                    per_day,
                )
    return allowed


def purge_rate_counters(db: Database, now: float | None = None) -> int:
    """Delete the counters whose window has ended; how many went (the purge timer's job)."""
    now = time.time() if now is None else now
    with write(db):
        return db.execute("DELETE FROM rate_counters WHERE expires_at < ?", [now]).rowcount
