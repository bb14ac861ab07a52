"""Purging the webhook's short-lived records, so an idle system keeps nothing too long.

Answered messages (:mod:`bot.wechat.dedup`, 24 hours), plain-mode signatures
(:mod:`bot.wechat.replay`, the timestamp window) and the rate counters of ended windows
(:mod:`bot.rate_limit`) are purged at app start, by the scheduler's daily housekeeping
and every WECHAT_PURGE_INTERVAL seconds by one daemon thread per worker process — never
per message, which keeps a message to one short write. The timer removes answered
messages one interval early (at most :data:`MAX_LOOKAHEAD`), so that none outlives its
24 hours before the next round. The purge is one indexed DELETE per table; every worker
doing it is harmless.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

from sqlite_utils import Database

from bot.rate_limit import purge_rate_counters
from bot.wechat.dedup import purge_processed_messages
from bot.wechat.replay import purge_plain_signatures
from knowledge.db import connect

log = logging.getLogger(__name__)

#: The most the timer purges answered messages ahead of their time (seconds).
MAX_LOOKAHEAD = 12 * 3600
#: Busy timeout (seconds) of the timer's purge: it can always wait for the next round.
PURGE_BUSY_TIMEOUT = 1.0

_timers: dict[tuple[int, str, float], threading.Thread] = {}
_timers_lock = threading.Lock()


def purge_wechat_records(db: Database, now: float | None = None, lookahead: float = 0.0) -> int:
    """Purge expired answered-message records, plain-mode signatures and rate counters;
    how many rows went.

    Answered messages due to expire within ``lookahead`` seconds go too (signatures and
    counters never early: they guard against replays and floods until their window ends).
    """
    now = time.time() if now is None else now
    return (
        purge_processed_messages(db, now + lookahead)
        + purge_plain_signatures(db, now)
        + purge_rate_counters(db, now)
    )


def start_purge_timer(database: str, interval: float | str) -> bool:
    """Purge ``database`` every ``interval`` seconds in a daemon thread of this process.

    One thread per process, database and interval; False when one runs already,
    ``interval`` is 0 (off) or the database is in memory. The thread ends once the
    database file is gone. ``ValueError`` if ``interval`` is not a number of seconds.
    """
    try:
        interval = float(interval)
    except ValueError:
        raise ValueError(
            f"WECHAT_PURGE_INTERVAL must be a number of seconds (0 for off), not {interval!r}"
        ) from None
    if interval <= 0 or database == ":memory:":
        return False
    key = (os.getpid(), database, interval)
    with _timers_lock:
        running = _timers.get(key)
        if running is not None and running.is_alive():
            return False
        thread = threading.Thread(
            target=_purge_every, args=(database, interval), name="pufa-purge", daemon=True
        )
        _timers[key] = thread
        thread.start()
    return True


def _purge_every(database: str, interval: float) -> None:
    while True:
        time.sleep(interval)
        if not Path(database).exists():
            log.info("purge timer for %s stopped: the database is gone", database)
            return
        try:
            db = connect(database, PURGE_BUSY_TIMEOUT)
            try:
                purged = purge_wechat_records(db, lookahead=min(interval, MAX_LOOKAHEAD))
            finally:
                db.close()
        except sqlite3.Error as error:
            log.warning("purge of WeChat records skipped this round: %s", error)
            continue
        if purged:
            log.info("purged %d expired WeChat records", purged)
