"""The scheduler as real processes (``flask campaigns run``) against the stand-in.

Each test starts the stand-in on 127.0.0.1 (ephemeral port) in this process, the web app
on another ephemeral port for the MASSSENDJOBFINISH event, and one or two scheduler
processes on a temporary database; crash tests kill them with SIGKILL at a pause point
the sender holds at when SCHEDULER_PAUSE_DIR is set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database
from werkzeug.serving import make_server

from bot import create_app
from bot.wechat.standin import WeChatStandIn
from knowledge.db import connect
from knowledge.store import SHANGHAI
from scheduler.campaigns import get_campaign
from tests.campaign_support import add_staff, approved_campaign
from tests.conftest import TEST_CONFIG, copy_database

ROOT = Path(__file__).resolve().parent.parent
SENDALL = "message/mass/sendall"
WAIT = 40.0  # seconds; a loaded 2-core machine starts a process in a few


def wait_for(check: Callable[[], bool], seconds: float = WAIT) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {seconds} s")


class Rig:
    """A database, the stand-in, the web app, and scheduler processes started on demand."""

    def __init__(self, tmp_path: Path, wechat: WeChatStandIn, web_url: str) -> None:
        self.path = tmp_path / "pufa.sqlite3"
        self.pause = tmp_path / "pause"
        self.pause.mkdir()
        self.tmp = tmp_path
        self.wechat = wechat
        self.processes: list[subprocess.Popen] = []
        self.log_files: list = []
        self.env = {
            **os.environ,
            "PUFA_DATABASE": str(self.path),
            "PUFA_SEED_ON_START": "false",
            "PUFA_WECHAT_APP_ID": TEST_CONFIG["WECHAT_APP_ID"],
            "PUFA_WECHAT_APP_SECRET": TEST_CONFIG["WECHAT_APP_SECRET"],
            "PUFA_WECHAT_API_BASE": wechat.base_url,
            "PUFA_SCHEDULER_POLL_SECONDS": "0.5",
            "PUFA_SCHEDULER_CLAIM_LEASE": "2",
            "PUFA_SCHEDULER_RETRY_DELAY": "0.2",
            "PUFA_SCHEDULER_RETRIES": "3",
            "PUFA_SCHEDULER_GRACE_SECONDS": "60",
        }
        self.db: Database = connect(self.path)

    def start(self, **env: str) -> subprocess.Popen:
        log = (self.tmp / f"scheduler{len(self.processes)}.log").open("wb")
        self.log_files.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "campaigns", "run"],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def status(self, campaign_id: int) -> str:
        campaign = get_campaign(self.db, campaign_id)
        assert campaign is not None
        return campaign.status

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp.glob("*.log")))

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for log in self.log_files:
            log.close()
        self.db.close()


@pytest.fixture
def rig(tmp_path: Path, bare_database: Path) -> Iterator[Rig]:
    path = copy_database(bare_database, tmp_path / "pufa.sqlite3")
    app = create_app({**TEST_CONFIG, "DATABASE": str(path), "SEED_ON_START": False})
    web = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    webhook = f"http://127.0.0.1:{web.server_port}/wechat"
    with WeChatStandIn(
        TEST_CONFIG["WECHAT_APP_ID"],
        TEST_CONFIG["WECHAT_APP_SECRET"],
        event_url=webhook,
        event_token=TEST_CONFIG["WECHAT_TOKEN"],
        event_delay=0.2,
    ) as wechat:
        setup = Rig(tmp_path, wechat, webhook)
        add_staff(setup.db)
        try:
            yield setup
        finally:
            if sys.exc_info()[0] is not None:
                print(setup.logs())
            setup.close()
            web.shutdown()


def due_in(rig: Rig, seconds: float) -> int:
    campaign_id = approved_campaign(rig.db, datetime.now(SHANGHAI) + timedelta(minutes=1))
    moment = datetime.now(SHANGHAI) + timedelta(seconds=seconds)
    rig.db["campaigns"].update(campaign_id, {"send_at": moment.isoformat(timespec="seconds")})
    return campaign_id


def test_full_run_sends_on_time_and_the_job_finish_event_fills_the_result(rig: Rig) -> None:
    rig.start()
    wait_for(lambda: rig.db["scheduler_heartbeat"].count == 1)
    # Planned while the scheduler runs: it learns of it by polling, no restart.
    campaign_id = due_in(rig, 3)
    due = get_campaign(rig.db, campaign_id).send_at  # type: ignore[union-attr]
    wait_for(lambda: rig.status(campaign_id) == "sent")
    (send,) = rig.wechat.mass_sends
    assert send.at >= due.timestamp()
    assert send.at - due.timestamp() < 10  # the date job fires on time; slack for a loaded machine
    wait_for(lambda: get_campaign(rig.db, campaign_id).result_sent is not None)  # type: ignore[union-attr]
    campaign = get_campaign(rig.db, campaign_id)
    assert campaign is not None and campaign.msg_id == str(send.msg_id)
    assert (campaign.result_status, campaign.result_sent) == ("send success", 3)


def test_killed_between_claim_and_api_call_then_restarted_sends_once(rig: Rig) -> None:
    campaign_id = due_in(rig, 1)
    first = rig.start(PUFA_SCHEDULER_PAUSE_DIR=str(rig.pause))
    wait_for((rig.pause / "claimed.reached").exists)
    assert rig.status(campaign_id) == "sending"
    first.kill()
    first.wait()
    assert rig.wechat.calls(SENDALL) == []
    rig.start()
    wait_for(lambda: rig.status(campaign_id) == "sent")
    assert len(rig.wechat.mass_sends) == 1
    assert [c.errcode for c in rig.wechat.calls(SENDALL)] == [0]


def test_killed_after_the_api_call_then_restarted_sends_once(rig: Rig) -> None:
    campaign_id = due_in(rig, 1)
    (rig.pause / "claimed.reached").write_text("skip")
    first = rig.start(PUFA_SCHEDULER_PAUSE_DIR=str(rig.pause))
    wait_for((rig.pause / "sent.reached").exists)
    first.kill()
    first.wait()
    assert len(rig.wechat.mass_sends) == 1
    assert rig.status(campaign_id) == "sending"  # WeChat has it; the database does not know
    rig.start()
    wait_for(lambda: rig.status(campaign_id) == "sent")
    assert len(rig.wechat.mass_sends) == 1
    assert [c.errcode for c in rig.wechat.calls(SENDALL)] == [0, 45065]


def test_two_scheduler_processes_at_once_send_once(rig: Rig) -> None:
    rig.start()
    rig.start()
    wait_for(lambda: rig.db["scheduler_heartbeat"].count == 2)
    campaign_id = due_in(rig, 2)
    wait_for(lambda: rig.status(campaign_id) == "sent")
    time.sleep(3)  # both had every chance: two polls and both date jobs
    assert len(rig.wechat.mass_sends) == 1
    assert len(rig.wechat.calls(SENDALL)) == 1


def test_transient_errors_then_success_send_once(rig: Rig) -> None:
    rig.wechat.inject(SENDALL, errcode=-1, times=2)
    campaign_id = due_in(rig, 1)
    rig.start()
    wait_for(lambda: rig.status(campaign_id) == "sent")
    assert [c.errcode for c in rig.wechat.calls(SENDALL)] == [-1, -1, 0]
    assert len(rig.wechat.mass_sends) == 1


def test_a_permanent_error_fails_without_a_retry_storm(rig: Rig) -> None:
    rig.wechat.inject(SENDALL, errcode=48001, errmsg="api unauthorized")
    campaign_id = due_in(rig, 1)
    rig.start()
    wait_for(lambda: rig.status(campaign_id) == "failed")
    time.sleep(2)  # several polls later
    assert len(rig.wechat.calls(SENDALL)) == 1
    campaign = get_campaign(rig.db, campaign_id)
    assert campaign is not None and campaign.error_code == 48001
    assert "微信认证" in campaign.error_message


def test_due_during_downtime_sent_within_grace_missed_after(rig: Rig) -> None:
    # Two campaigns fell due while no scheduler ran (a 服务号 may send both the same day).
    service = {"PUFA_WECHAT_ACCOUNT_TYPE": "service"}
    recent = approved_campaign(rig.db, datetime.now(SHANGHAI) + timedelta(minutes=1), "service")
    old = approved_campaign(rig.db, datetime.now(SHANGHAI) + timedelta(minutes=2), "service")
    now = datetime.now(SHANGHAI)
    rig.db["campaigns"].update(recent, {"send_at": (now - timedelta(seconds=30)).isoformat()})
    rig.db["campaigns"].update(old, {"send_at": (now - timedelta(seconds=90)).isoformat()})
    rig.start(**service)
    wait_for(lambda: rig.status(recent) == "sent" and rig.status(old) == "missed")
    assert len(rig.wechat.mass_sends) == 1
    assert "was due while no scheduler ran: missed" in rig.logs()
