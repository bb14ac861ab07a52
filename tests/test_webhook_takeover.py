"""A worker killed between claiming a message and recording its reply: a retry takes over.

The claim is made by a real separate process, killed with SIGKILL right after it; the
retries go to the app over real HTTP on loopback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlite_utils import Database
from webhook_support import WeChatSender, message_dedup_key, parse_xml, text_message

from bot.wechat.dedup import AnsweredElsewhere, claim_message, record_answer, stored_reply
from bot.wechat.reply import HOLDING_TEXT, LEASE_MARGIN
from knowledge.db import write
from tests.browser_support import served

ROOT = Path(__file__).resolve().parent.parent
OFF_TOPIC = "请问火星上的天气今天怎么样呀"
#: Claims the message named on the command line, says so, then waits to be killed.
CLAIMING_WORKER = """
import sys, time
from bot.wechat.dedup import claim_message, claim_owner
from knowledge.db import connect
database, key, lease = sys.argv[1], sys.argv[2], float(sys.argv[3])
claim = claim_message(connect(database), key, claim_owner(), lease)
print(claim.status, time.time(), flush=True)
time.sleep(60)
"""


@pytest.fixture
def base_url(app: Flask, sender: WeChatSender) -> Iterator[str]:
    """The app (its matcher warmed by ``sender``) served over HTTP on a loopback port."""
    with served(app) as http:
        yield f"http://127.0.0.1:{http.server_port}/wechat"


def deliver(base_url: str, sender: WeChatSender, xml: str) -> tuple[str, float]:
    """POST ``xml`` in plain mode over HTTP: the reply's Content and how long it took."""
    url = f"{base_url}?{urllib.parse.urlencode(sender.query())}"
    started = time.monotonic()
    with urllib.request.urlopen(url, data=xml.encode(), timeout=10) as response:
        body = response.read()
    return parse_xml(body)["Content"], time.monotonic() - started


def claim_and_die(database: Path, key: str, lease: float) -> float:
    """Claim ``key`` in a separate process and SIGKILL it; when the claim was made."""
    worker = subprocess.Popen(
        [sys.executable, "-c", CLAIMING_WORKER, str(database), key, str(lease)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        status, claimed_at = worker.stdout.readline().split()
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        worker.stdout.close()
    assert status == "claimed"
    assert worker.returncode == -signal.SIGKILL
    return float(claimed_at)


def dialogue_runs(db: Database, text: str) -> int:
    return db.execute(
        "SELECT count(*) FROM turns WHERE kind IN ('choices', 'fallback') AND text = ?", [text]
    ).fetchone()[0]


def test_a_retry_takes_over_the_claim_of_a_killed_worker(
    app: Flask, sender: WeChatSender, base_url: str, database_path: Path, db: Database, caplog
):
    deadline = app.config["REPLY_DEADLINE"]
    lease = deadline + LEASE_MARGIN
    key = message_dedup_key(6001)
    message = text_message(OFF_TOPIC, msg_id=6001)
    claimed_at = claim_and_die(database_path, key, lease)

    # Inside the lease the dead worker might still be alive: the holding text, in time.
    early, early_seconds = deliver(base_url, sender, message)
    assert early == HOLDING_TEXT
    assert early_seconds < deadline + 0.5
    assert stored_reply(db, key) is None

    # A retry arriving shortly before the lease ends waits it out, takes over and answers.
    time.sleep(max(0.0, claimed_at + lease - 0.3 - time.time()))
    answer, takeover_seconds = deliver(base_url, sender, message)
    assert answer not in (HOLDING_TEXT, "")
    assert takeover_seconds < deadline + 0.5
    assert "took over the claim" in caplog.text
    assert stored_reply(db, key) == answer
    assert dialogue_runs(db, OFF_TOPIC) == 1

    again, _seconds = deliver(base_url, sender, message)
    assert again == answer
    assert dialogue_runs(db, OFF_TOPIC) == 1


def test_a_retry_after_the_lease_answers_at_once(
    app: Flask, sender: WeChatSender, base_url: str, database_path: Path, db: Database
):
    lease = app.config["REPLY_DEADLINE"] + LEASE_MARGIN
    key = message_dedup_key(6002)
    claimed_at = claim_and_die(database_path, key, lease)
    time.sleep(max(0.0, claimed_at + lease + 0.05 - time.time()))
    answer, seconds = deliver(base_url, sender, text_message(OFF_TOPIC, msg_id=6002))
    assert answer not in (HOLDING_TEXT, "")
    assert seconds < 0.5
    assert stored_reply(db, key) == answer


def test_after_a_takeover_the_first_answer_recorded_is_kept(db: Database):
    now = time.time()
    assert claim_message(db, "k", "slow", 3.0, now=now - 10).status == "claimed"
    assert claim_message(db, "k", "retry", 3.0, now=now - 9).status == "in_progress"
    taken = claim_message(db, "k", "retry", 3.0, now=now)
    assert (taken.status, taken.previous_owner) == ("taken_over", "slow")
    assert taken.age == pytest.approx(10.0)
    with write(db):
        record_answer(db, "k", "retry", "新的回复")
    # The slow owner's whole write (its turn, its state) rolls back; it sends the kept reply.
    with pytest.raises(AnsweredElsewhere) as lost, write(db):
        db.execute("INSERT INTO conversations (user, state, expires_at) VALUES ('x', '{}', 0)")
        record_answer(db, "k", "slow", "迟到的回复")
    assert lost.value.reply == "新的回复"
    assert stored_reply(db, "k") == "新的回复"
    assert db["conversations"].count == 0
