"""The scheduler process's daily housekeeping and its heartbeat."""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from bot.wechat.housekeeping import purge_wechat_records
from knowledge.db import write
from knowledge.store import now
from knowledge.turns import purge_old_texts

log = logging.getLogger(__name__)

PREVIEW_RECORDS_DAYS = 30  # only today's previews count towards WeChat's daily limit


def write_heartbeat(db: Database, owner: str, started_at: str) -> None:
    """Record that the scheduler process ``owner`` is alive (one row per process)."""
    with write(db):
        db["scheduler_heartbeat"].upsert(
            {
                "owner": owner,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started_at": started_at,
                "beat_at": now(),
            },
            pk="owner",
        )


def last_heartbeat(db: Database) -> tuple[str, float] | None:
    """The freshest heartbeat's owner and its age in seconds, or None if none was written."""
    row = db.execute(
        "SELECT owner, beat_at FROM scheduler_heartbeat ORDER BY beat_at DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return row[0], time.time() - datetime.fromisoformat(row[1]).timestamp()


def run_housekeeping(db: Database, text_retention_days: int) -> dict[str, int]:
    """The daily clean-up: the webhook's expired records (answered messages, plain-mode
    signatures, rate counters of ended windows), residents' message texts older than ``text_retention_days``
    (RESIDENT_TEXT_RETENTION_DAYS), old preview records and heartbeats of stopped
    processes; rows removed.
    """
    wechat = purge_wechat_records(db)
    texts = purge_old_texts(db, text_retention_days)
    cutoff = (datetime.now(UTC) - timedelta(days=PREVIEW_RECORDS_DAYS)).isoformat(
        timespec="seconds"
    )
    stale = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
    with write(db):
        previews = db.execute("DELETE FROM campaign_previews WHERE at < ?", [cutoff]).rowcount
        beats = db.execute("DELETE FROM scheduler_heartbeat WHERE beat_at < ?", [stale]).rowcount
    done = {
        "wechat_records": wechat,
        "resident_texts": texts,
        "campaign_previews": previews,
        "scheduler_heartbeat": beats,
    }
    log.info("housekeeping: %s", done)
    return done
