"""WeChat's retries: the same reply every time, the message processed once, across processes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlite_utils import Database
from webhook_support import (
    RESIDENT,
    WeChatSender,
    event_message,
    sender_for,
    text_message,
)

from bot import create_app
from bot.wechat.dedup import (
    RETENTION_SECONDS,
    claim_message,
    record_reply,
    release_claim,
    stored_reply,
    wait_for_reply,
)
from bot.wechat.reply import HOLDING_TEXT
from knowledge.db import connect

#: Out of scope for any entry: the dialogue falls back and logs it in ``unanswered``.
OFF_TOPIC = "请问火星上的天气今天怎么样呀"


def dialogue_runs(db: Database, text: str) -> int:
    """How many times the dialogue handled ``text`` (each run records one unanswered turn)."""
    return db.execute(
        "SELECT count(*) FROM turns WHERE kind IN ('choices', 'fallback') AND text = ?", [text]
    ).fetchone()[0]


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_a_retry_gets_the_same_reply_and_is_not_processed_again(
    sender: WeChatSender, db: Database, mode: str
):
    message = text_message(OFF_TOPIC, msg_id=4242)
    replies = [sender.exchange(mode, message) for _ in range(4)]
    assert all(reply["Content"] == replies[0]["Content"] for reply in replies)
    assert dialogue_runs(db, OFF_TOPIC) == 1
    assert stored_reply(db, "msg:4242") == replies[0]["Content"]


def test_a_new_message_with_the_same_text_is_processed_again(sender: WeChatSender, db):
    sender.exchange("plain", text_message(OFF_TOPIC, msg_id=1))
    sender.exchange("plain", text_message(OFF_TOPIC, msg_id=2))
    assert dialogue_runs(db, OFF_TOPIC) == 2


def test_events_are_deduplicated_by_sender_and_create_time(sender: WeChatSender, db: Database):
    first = sender.exchange("plain", event_message("subscribe", create_time=1_700_000_000))
    again = sender.exchange("plain", event_message("subscribe", create_time=1_700_000_000))
    assert first["Content"] == again["Content"]
    assert db["processed_messages"].count == 1
    assert stored_reply(db, f"from:{RESIDENT}:1700000000") == first["Content"]
    sender.exchange("plain", event_message("subscribe", create_time=1_700_000_001))
    assert db["processed_messages"].count == 2


def test_an_event_without_a_reply_is_recorded_as_success(sender: WeChatSender, db: Database):
    assert sender.exchange("plain", event_message("unsubscribe", create_time=1_700_000_000)) == (
        "success"
    )
    assert stored_reply(db, f"from:{RESIDENT}:1700000000") == ""
    assert sender.exchange("plain", event_message("unsubscribe", create_time=1_700_000_000)) == (
        "success"
    )


def test_racing_retries_from_several_processes_are_processed_once(
    sender: WeChatSender, database_path: Path, db: Database
):
    # Warm the matcher so the race is about the dedup record, not first-use loading.
    sender.exchange("plain", text_message("离婚冷静期多久"))
    workers = 6
    apps = [create_app({"TESTING": True, "DATABASE": str(database_path)}) for _ in range(workers)]
    start = threading.Barrier(workers)
    contents: list[str] = []
    errors: list[BaseException] = []

    def deliver(app: Flask) -> None:
        try:
            own = sender_for(app, app.test_client())
            start.wait()
            contents.append(own.exchange("plain", text_message(OFF_TOPIC, msg_id=777))["Content"])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=deliver, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    assert len(contents) == workers
    assert len(set(contents)) == 1
    assert contents[0] != HOLDING_TEXT
    assert dialogue_runs(db, OFF_TOPIC) == 1
    assert db["processed_messages"].count == 2  # the warm-up and the raced message


def test_a_retry_waits_for_the_first_attempt_to_finish(sender: WeChatSender, db: Database):
    assert claim_message(db, "msg:9001").status == "claimed"  # another worker has it
    finisher = threading.Timer(0.2, record_reply, args=(db, "msg:9001", "第一次的回复"))
    finisher.start()
    started = time.monotonic()
    reply = sender.exchange("plain", text_message(OFF_TOPIC, msg_id=9001))
    finisher.join()
    assert 0.15 < time.monotonic() - started < 1.0
    assert reply["Content"] == "第一次的回复"
    assert dialogue_runs(db, OFF_TOPIC) == 0


def test_a_retry_gets_the_holding_reply_if_the_first_attempt_never_finishes(
    sender: WeChatSender, db: Database, caplog
):
    assert claim_message(db, "msg:9002").status == "claimed"
    started = time.monotonic()
    reply = sender.exchange("plain", text_message(OFF_TOPIC, msg_id=9002))
    assert time.monotonic() - started < 1.5
    assert reply["Content"] == HOLDING_TEXT
    assert "first attempt still running" in caplog.text
    assert dialogue_runs(db, OFF_TOPIC) == 0
    assert stored_reply(db, "msg:9002") is None


def test_old_records_are_purged(sender: WeChatSender, db: Database):
    old = time.time() - RETENTION_SECONDS - 60
    db["processed_messages"].insert({"key": "msg:1", "reply": "旧", "created_at": old})
    db["processed_messages"].insert({"key": "msg:2", "reply": "新", "created_at": time.time()})
    sender.exchange("plain", event_message("subscribe"))
    keys = {row["key"] for row in db["processed_messages"].rows}
    assert "msg:1" not in keys
    assert "msg:2" in keys


def test_the_record_claims_answers_and_releases(database_path: Path, app: Flask):
    first = connect(database_path)
    second = connect(database_path)
    try:
        assert claim_message(first, "k").status == "claimed"
        assert claim_message(second, "k").status == "in_progress"
        started = time.monotonic()
        assert wait_for_reply(second, "k", 0.1) is None
        assert 0.1 <= time.monotonic() - started < 0.5
        release_claim(first, "k")
        assert claim_message(second, "k").status == "claimed"
        record_reply(second, "k", "答复")
        release_claim(second, "k")  # an answered claim is kept
        answered = claim_message(first, "k")
        assert (answered.status, answered.reply) == ("answered", "答复")
        assert wait_for_reply(first, "k", 5) == "答复"
    finally:
        first.close()
        second.close()
