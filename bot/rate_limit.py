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


def check_message_rate(db: Database, limits: Mapping[str, int], now: float | None = None) -> None:
    """Count one message for each caller in ``limits`` (caller key → messages per minute).

    Raises :class:`RateLimited` if any caller is now over its limit; a limit of 0 is no
    limit. The first refusal of a minute is logged (once per caller and minute); refusals
    count too, so a caller cannot hammer its way through. Expired counters are purged in
    the same transaction.
    """
    limits = {caller: limit for caller, limit in limits.items() if limit > 0}
    if not limits:
        return
    now = time.time() if now is None else now
    minute = int(now // MINUTE)
    ends = (minute + 1) * MINUTE
    exceeded = []
    with write(db):
        db.execute("DELETE FROM rate_counters WHERE expires_at < ?", [now])
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
    if exceeded:
        raise RateLimited(min(exceeded), max(1, math.ceil(ends - now)))


def take_unanswered_slot(
    db: Database, callers: Sequence[str], per_day: int, now: float | None = None
) -> bool:
    """Whether one more unanswered turn of ``callers`` may go to the staff's queue today.

    Counts the turn for each caller; False once any of them is over ``per_day`` turns
    today (logged once, when it first happens). ``per_day`` of 0 means no cap.
    """
    if per_day <= 0 or not callers:
        return True
    now = time.time() if now is None else now
    day = int((now + BEIJING_OFFSET) // DAY)
    ends = (day + 1) * DAY - BEIJING_OFFSET
    allowed = True
    with write(db):
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
