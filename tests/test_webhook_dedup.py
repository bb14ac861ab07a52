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
    event_dedup_key,
    event_message,
    message_dedup_key,
    sender_for,
    text_message,
)

from bot import create_app
from bot.wechat.dedup import (
    RETENTION_SECONDS,
    AnsweredElsewhere,
    claim_message,
    purge_processed_messages,
    record_answer,
    release_claim,
    stored_reply,
    wait_for_reply,
)
from bot.wechat.reply import HOLDING_TEXT
from knowledge.db import connect, write

#: A lease no test outlives: claims in these tests are never taken over.
LEASE = 60.0
#: Out of scope for any entry: the dialogue falls back and records it as an unanswered turn.
OFF_TOPIC = "请问火星上的天气今天怎么样呀"


def record_reply(db: Database, key: str, owner: str, reply: str) -> None:
    """Record ``reply`` to ``key`` as ``owner``'s answer, in a write of its own."""
    with write(db):
        record_answer(db, key, owner, reply)


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
    assert stored_reply(db, message_dedup_key(4242)) == replies[0]["Content"]


def test_a_new_message_with_the_same_text_is_processed_again(sender: WeChatSender, db):
    sender.exchange("plain", text_message(OFF_TOPIC, msg_id=1))
    sender.exchange("plain", text_message(OFF_TOPIC, msg_id=2))
    assert dialogue_runs(db, OFF_TOPIC) == 2


def test_events_are_deduplicated_by_sender_create_time_and_event(
    sender: WeChatSender, db: Database
):
    first = sender.exchange("plain", event_message("subscribe", create_time=1_700_000_000))
    again = sender.exchange("plain", event_message("subscribe", create_time=1_700_000_000))
    assert first["Content"] == again["Content"]
    assert db["processed_messages"].count == 1
    assert stored_reply(db, event_dedup_key(1_700_000_000, "subscribe")) == first["Content"]
    sender.exchange("plain", event_message("subscribe", create_time=1_700_000_001))
    assert db["processed_messages"].count == 2


def test_two_different_events_in_the_same_second_get_their_own_replies(
    sender: WeChatSender, db: Database
):
    second = 1_700_000_100
    topic = sender.exchange("plain", event_message("CLICK", "TOPIC_marriage", second))
    human = sender.exchange("plain", event_message("CLICK", "HUMAN", second))
    assert topic["Content"] != human["Content"]
    assert "12348" in human["Content"]
    again = sender.exchange("plain", event_message("CLICK", "TOPIC_marriage", second))
    assert again["Content"] == topic["Content"]  # a retry of the same event still dedups
    assert db["processed_messages"].count == 2
    assert stored_reply(db, event_dedup_key(second, "CLICK", "HUMAN")) == human["Content"]


def test_dedup_records_never_hold_the_raw_openid(sender: WeChatSender, db: Database):
    sender.exchange("safe", text_message(OFF_TOPIC))
    sender.exchange("plain", event_message("subscribe"))
    keys = [row["key"] for row in db["processed_messages"].rows]
    assert len(keys) == 2
    assert all(RESIDENT not in key for key in keys)


def test_an_event_without_a_reply_is_recorded_as_success(sender: WeChatSender, db: Database):
    assert sender.exchange("plain", event_message("unsubscribe", create_time=1_700_000_000)) == (
        "success"
    )
    assert stored_reply(db, event_dedup_key(1_700_000_000, "unsubscribe")) == ""
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
    key = message_dedup_key(9001)
    assert claim_message(db, key, "other", LEASE).status == "claimed"  # another worker has it
    finisher = threading.Timer(0.2, record_reply, args=(db, key, "other", "第一次的回复"))
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
    assert claim_message(db, message_dedup_key(9002), "other", LEASE).status == "claimed"
    started = time.monotonic()
    reply = sender.exchange("plain", text_message(OFF_TOPIC, msg_id=9002))
    assert time.monotonic() - started < 1.5
    assert reply["Content"] == HOLDING_TEXT
    assert "first attempt still running" in caplog.text
    assert dialogue_runs(db, OFF_TOPIC) == 0
    assert stored_reply(db, message_dedup_key(9002)) is None


def insert_old_and_new_records(db: Database) -> None:
    """One answered record a minute past retention (``old``) and one just made (``new``)."""
    old = time.time() - RETENTION_SECONDS - 60
    db["processed_messages"].insert({"key": "old", "reply": "旧", "created_at": old})
    db["processed_messages"].insert({"key": "new", "reply": "新", "created_at": time.time()})


def record_keys(db: Database) -> set[str]:
    return {row["key"] for row in db["processed_messages"].rows}


def test_purge_removes_only_records_past_retention(db: Database):
    insert_old_and_new_records(db)
    assert purge_processed_messages(db) == 1
    assert record_keys(db) == {"new"}
    assert purge_processed_messages(db, now=time.time() + RETENTION_SECONDS + 1) == 1
    assert record_keys(db) == set()


def test_old_records_are_purged_when_the_app_starts(database_path: Path, db: Database):
    insert_old_and_new_records(db)
    create_app({"TESTING": True, "DATABASE": str(database_path)})
    assert record_keys(db) == {"new"}


def test_an_idle_app_purges_old_records_on_its_timer(database_path: Path, db: Database):
    create_app({"TESTING": True, "DATABASE": str(database_path), "WECHAT_PURGE_INTERVAL": 0.1})
    insert_old_and_new_records(db)  # after start: only the timer can purge it
    give_up = time.monotonic() + 5
    while "old" in record_keys(db):
        assert time.monotonic() < give_up, "the timer never purged the old record"
        time.sleep(0.05)
    assert record_keys(db) == {"new"}


def test_the_timer_purges_one_interval_early_so_nothing_outlives_a_day(
    database_path: Path, db: Database
):
    interval = 1.0
    create_app({"TESTING": True, "DATABASE": str(database_path), "WECHAT_PURGE_INTERVAL": interval})
    # 24 hours old between the first round (within a second) and the second one.
    due_at = time.time() + 1.5 * interval
    created = due_at - RETENTION_SECONDS
    db["processed_messages"].insert({"key": "due", "reply": "快到期", "created_at": created})
    db["processed_messages"].insert({"key": "new", "reply": "新", "created_at": time.time()})
    give_up = time.monotonic() + 5
    while "due" in record_keys(db):
        assert time.monotonic() < give_up, "the timer never purged the record due soon"
        time.sleep(0.02)
    assert time.time() < due_at, "purged only once a day old, after the round before it"
    assert record_keys(db) == {"new"}


def test_a_purge_interval_that_is_not_a_number_is_a_clear_error(database_path: Path):
    with pytest.raises(ValueError, match="WECHAT_PURGE_INTERVAL must be a number of seconds"):
        create_app({"TESTING": True, "DATABASE": str(database_path), "WECHAT_PURGE_INTERVAL": "x"})


def test_the_record_claims_answers_and_releases(database_path: Path, app: Flask):
    first = connect(database_path)
    second = connect(database_path)
    try:
        assert claim_message(first, "k", "first", LEASE).status == "claimed"
        assert claim_message(second, "k", "second", LEASE).status == "in_progress"
        started = time.monotonic()
        assert wait_for_reply(second, "k", 0.1) is None
        assert 0.1 <= time.monotonic() - started < 0.5
        release_claim(second, "k", "second")  # not its claim: nothing happens
        assert claim_message(second, "k", "second", LEASE).status == "in_progress"
        release_claim(first, "k", "first")
        assert claim_message(second, "k", "second", LEASE).status == "claimed"
        record_reply(second, "k", "second", "答复")
        release_claim(second, "k", "second")  # an answered claim is kept
        answered = claim_message(first, "k", "first", LEASE)
        assert (answered.status, answered.reply) == ("answered", "答复")
        assert wait_for_reply(first, "k", 5) == "答复"
        with pytest.raises(AnsweredElsewhere) as lost:
            record_reply(first, "k", "first", "另一个答复")
        assert lost.value.reply == "答复"
        assert stored_reply(first, "k") == "答复"
    finally:
        first.close()
        second.close()
