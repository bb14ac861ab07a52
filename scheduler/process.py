"""The one scheduler process (``flask campaigns run``): campaigns sent on time, housekeeping.

Never start it inside gunicorn workers: run exactly one (a second one is harmless — the
claim in the database lets only one send each campaign — but pointless). The campaigns
table is the source of truth: at start the process marks what it missed, sends what is due
within the grace window, and keeps one APScheduler job per approved campaign; it polls the
campaign generation every SCHEDULER_POLL_SECONDS and rebuilds the jobs when it moved, so a
change made in the console reaches it without a restart.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from bot.wechat.api import WeChatAPI, api_for
from knowledge.db import connect
from knowledge.store import now
from knowledge.turns import retention_days
from scheduler.campaigns import campaign_generation
from scheduler.housekeeping import run_housekeeping, write_heartbeat
from scheduler.sender import (
    SendSettings,
    due_campaign_ids,
    mark_overdue,
    new_owner,
    send_campaign,
    upcoming,
)

log = logging.getLogger(__name__)
TIMEZONE = ZoneInfo("Asia/Shanghai")


class NotConfigured(RuntimeError):
    """The scheduler cannot run: the WeChat account is not configured."""


class CampaignScheduler:
    """The jobs of one scheduler process, each opening its own database connection."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.settings = SendSettings.from_config(app.config)
        self.owner = new_owner()
        self.started_at = now()
        self.generation = -1
        self.lock = threading.Lock()
        self.scheduler = BlockingScheduler(
            timezone=TIMEZONE, executors={"default": ThreadPoolExecutor(4)}
        )
        probe = connect(app.config["DATABASE"])
        try:
            if api_for(app, probe) is None:
                raise NotConfigured(
                    "未设置 PUFA_WECHAT_APP_ID 和 PUFA_WECHAT_APP_SECRET，无法群发；"
                    "演示时请用 scripts/serve（它会启动本地的微信接口替身）。"
                )
        finally:
            probe.close()

    def _api(self, db: object) -> WeChatAPI:
        api = api_for(self.app, db)  # type: ignore[arg-type]
        assert api is not None
        return api

    def send(self, campaign_id: int) -> None:
        """Job: send one campaign if it is due and nobody else has claimed it."""
        db = connect(self.app.config["DATABASE"], self.app.config["DATABASE_BUSY_TIMEOUT"])
        try:
            status = send_campaign(db, self._api(db), campaign_id, self.owner, self.settings)
            if status:
                log.info("campaign %d: %s", campaign_id, status)
        finally:
            db.close()

    def poll(self) -> None:
        """Job: mark missed campaigns, send due ones, rebuild the jobs if campaigns changed."""
        db = connect(self.app.config["DATABASE"], self.app.config["DATABASE_BUSY_TIMEOUT"])
        try:
            for campaign_id in mark_overdue(db, self.settings):
                log.warning("campaign %d was due while no scheduler ran: missed", campaign_id)
            due = due_campaign_ids(db)
            generation = campaign_generation(db)
            planned = upcoming(db)
        finally:
            db.close()
        for campaign_id in due:
            self.scheduler.add_job(
                self.send, args=[campaign_id], id=f"due-{campaign_id}", replace_existing=True
            )
        with self.lock:
            if generation != self.generation:
                self.generation = generation
                self._rebuild(planned)

    def _rebuild(self, planned: list[tuple[int, datetime]]) -> None:
        wanted = {f"campaign-{campaign_id}": (campaign_id, at) for campaign_id, at in planned}
        for job in self.scheduler.get_jobs():
            if job.id.startswith("campaign-") and job.id not in wanted:
                job.remove()
        for job_id, (campaign_id, at) in wanted.items():
            self.scheduler.add_job(
                self.send,
                "date",
                run_date=at,
                args=[campaign_id],
                id=job_id,
                replace_existing=True,
                misfire_grace_time=max(1, int(self.settings.grace)),
                coalesce=True,
            )
        log.info("scheduler jobs rebuilt: %d campaign(s) planned", len(wanted))

    def heartbeat(self) -> None:
        """Job: write this process's heartbeat row."""
        db = connect(self.app.config["DATABASE"], self.app.config["DATABASE_BUSY_TIMEOUT"])
        try:
            write_heartbeat(db, self.owner, self.started_at)
        finally:
            db.close()

    def housekeeping(self) -> None:
        """Job: the daily clean-up."""
        db = connect(self.app.config["DATABASE"], self.app.config["DATABASE_BUSY_TIMEOUT"])
        try:
            run_housekeeping(db, retention_days(self.app.config))
        finally:
            db.close()

    def run(self) -> None:
        """Catch up, then run the jobs until SIGTERM or Ctrl+C."""
        config = self.app.config
        # APScheduler logs every run of every job at INFO; the poll alone would flood the log.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        self.heartbeat()
        self.poll()
        self.scheduler.add_job(
            self.poll,
            "interval",
            seconds=float(config["SCHEDULER_POLL_SECONDS"]),
            id="poll",
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.add_job(
            self.heartbeat,
            "interval",
            seconds=float(config["SCHEDULER_HEARTBEAT_SECONDS"]),
            id="heartbeat",
            max_instances=1,
            coalesce=True,
        )
        hour, minute = (int(part) for part in str(config["SCHEDULER_HOUSEKEEPING_AT"]).split(":"))
        self.scheduler.add_job(
            self.housekeeping,
            "cron",
            hour=hour,
            minute=minute,
            id="housekeeping",
            misfire_grace_time=3600,
            coalesce=True,
        )

        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("scheduler %s stopping (signal %d)", self.owner, signum)
            self.scheduler.shutdown(wait=False)

        signal.signal(signal.SIGTERM, stop)
        log.info(
            "scheduler %s running (poll every %s s)", self.owner, config["SCHEDULER_POLL_SECONDS"]
        )
        try:
            self.scheduler.start()
        except KeyboardInterrupt:
            log.info("scheduler %s stopped", self.owner)
