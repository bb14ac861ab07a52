"""The reply deadline: a busy database or a slow dialogue never keeps WeChat waiting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlite_utils import Database

from bot import create_app
from bot.wechat.dedup import stored_reply
from bot.wechat.reply import HOLDING_TEXT, LATER_TEXT
from bot.wechat.standin import WeChatStandIn
from knowledge.residents import hash_secret, resident_key
from tests.conftest import TEST_CONFIG
from tests.webhook_support import (
    RESIDENT,
    WeChatSender,
    message_dedup_key,
    sender_for,
    text_message,
)

OFF_TOPIC = "请问火星上的天气今天怎么样呀"
#: The resident's dialogue state is stored under the keyed hash, never the OpenID.
RESIDENT_KEY = resident_key(hash_secret(TEST_CONFIG), "wx", RESIDENT)


@pytest.fixture
def write_lock(db: Database) -> Iterator[Database]:
    """Another connection holding the database's write lock until the test commits."""
    db.conn.execute("BEGIN IMMEDIATE")
    yield db
    if db.conn.in_transaction:
        db.conn.execute("ROLLBACK")


def dialogue_runs(db: Database, text: str) -> int:
    return db.execute(
        "SELECT count(*) FROM turns WHERE kind IN ('choices', 'fallback') AND text = ?", [text]
    ).fetchone()[0]


def wait_until_recorded(db: Database, key: str, seconds: float = 5.0) -> str:
    give_up = time.monotonic() + seconds
    while (reply := stored_reply(db, key)) is None:
        assert time.monotonic() < give_up, f"{key} was never answered"
        time.sleep(0.02)
    return reply


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_a_locked_database_gets_the_holding_reply_in_time(
    sender: WeChatSender, write_lock: Database, caplog, mode: str
):
    started = time.monotonic()
    reply = sender.exchange(mode, text_message(OFF_TOPIC, msg_id=5001))
    elapsed = time.monotonic() - started
    assert elapsed < 1.5
    assert reply["Content"] == HOLDING_TEXT
    assert "database is locked" in caplog.text


def test_a_retry_after_the_lock_is_answered(sender: WeChatSender, write_lock: Database):
    held = sender.exchange("plain", text_message(OFF_TOPIC, msg_id=5002))
    assert held["Content"] == HOLDING_TEXT
    write_lock.conn.execute("COMMIT")

    retry = sender.exchange("plain", text_message(OFF_TOPIC, msg_id=5002))
    assert retry["Content"] not in (HOLDING_TEXT, "")
    assert dialogue_runs(write_lock, OFF_TOPIC) == 1
    assert stored_reply(write_lock, message_dedup_key(5002)) == retry["Content"]


def first_late_reply(
    sender: WeChatSender, text: str, first_msg_id: int, late_text: str
) -> tuple[int, list[tuple[int, str]]]:
    """Send ``text`` as new messages until one gets ``late_text``: the MsgId of that one, and
    the (MsgId, reply) of those before it.

    With no time at all to answer, the dialogue nearly always outruns the deadline; on a
    busy machine the worker thread may now and then finish first, which is right too.
    """
    early: list[tuple[int, str]] = []
    for msg_id in range(first_msg_id, first_msg_id + 20):
        reply = sender.exchange("plain", text_message(text, msg_id=msg_id))["Content"]
        if reply == late_text:
            return msg_id, early
        early.append((msg_id, reply))
    raise AssertionError(f"20 dialogues in a row beat a zero deadline: {early[-1]}")


def test_a_dialogue_past_the_deadline_finishes_for_the_retry(database_path: Path, db, caplog):
    # No time at all: the webhook answers at once and the dialogue runs in the background.
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": TEST_CONFIG["SECRET_KEY"],
            "DATABASE": str(database_path),
            "REPLY_DEADLINE": 0.0,
        }
    )
    sender = sender_for(app, app.test_client())
    msg_id, early = first_late_reply(sender, OFF_TOPIC, 5003, HOLDING_TEXT)
    assert "no reply by the deadline" in caplog.text

    answer = wait_until_recorded(db, message_dedup_key(msg_id))
    assert answer not in (HOLDING_TEXT, "")
    assert all(reply == answer for _, reply in early)  # those in time got the answer itself
    retry = sender.exchange("plain", text_message(OFF_TOPIC, msg_id=msg_id))
    assert retry["Content"] == answer
    assert dialogue_runs(db, OFF_TOPIC) == len(early) + 1


def test_an_ordinary_reply_is_well_inside_the_deadline(sender: WeChatSender):
    sender.exchange("plain", text_message("离婚冷静期多久"))  # first use loads the matcher
    started = time.monotonic()
    reply = sender.exchange("safe", text_message(OFF_TOPIC))
    assert time.monotonic() - started < 0.5
    assert reply["Content"] != HOLDING_TEXT


def test_a_failing_dialogue_gets_the_holding_reply_and_a_retry_tries_again(
    sender: WeChatSender, db: Database, caplog
):
    # A corrupt dialogue state makes the dialogue raise: real data, no stand-ins.
    db["conversations"].insert({"user": RESIDENT_KEY, "state": "{broken", "expires_at": 4e9})
    held = sender.exchange("plain", text_message(OFF_TOPIC, msg_id=5004))
    assert held["Content"] == HOLDING_TEXT
    assert "the dialogue failed" in caplog.text
    assert stored_reply(db, message_dedup_key(5004)) is None  # the claim was released

    db["conversations"].delete(RESIDENT_KEY)
    retry = sender.exchange("plain", text_message(OFF_TOPIC, msg_id=5004))
    assert retry["Content"] not in (HOLDING_TEXT, "")
    assert dialogue_runs(db, OFF_TOPIC) == 1


def late_app(database_path: Path, wechat: WeChatStandIn) -> Flask:
    """An app whose account can send 客服 messages, with no time to answer in the request."""
    return create_app(
        {
            **TEST_CONFIG,
            "DATABASE": str(database_path),
            "REPLY_DEADLINE": 0.0,
            "WECHAT_API_BASE": wechat.base_url,
        }
    )


def wait_until_sent(wechat: WeChatStandIn, count: int = 1, seconds: float = 10.0) -> list:
    give_up = time.monotonic() + seconds
    while len(wechat.sent) < count:
        assert time.monotonic() < give_up, "no 客服 message arrived"
        time.sleep(0.02)
    return wechat.sent


def test_a_late_answer_follows_as_a_customer_service_message(database_path: Path, db, caplog):
    with WeChatStandIn(TEST_CONFIG["WECHAT_APP_ID"], TEST_CONFIG["WECHAT_APP_SECRET"]) as wechat:
        app = late_app(database_path, wechat)
        sender = sender_for(app, app.test_client())
        msg_id, early = first_late_reply(sender, "离婚冷静期多久", 5005, LATER_TEXT)
        [late] = wait_until_sent(wechat)  # only the late one is sent again
    answer = wait_until_recorded(db, message_dedup_key(msg_id))
    assert all(reply == answer for _, reply in early)
    assert late.touser == RESIDENT and late.content == answer
    assert "冷静期" in answer
    assert "it follows as a 客服 message" in caplog.text


def test_a_late_answer_that_cannot_be_sent_is_logged(database_path: Path, db, caplog):
    with WeChatStandIn(TEST_CONFIG["WECHAT_APP_ID"], TEST_CONFIG["WECHAT_APP_SECRET"]) as wechat:
        wechat.close_window(RESIDENT)
        app = late_app(database_path, wechat)
        sender = sender_for(app, app.test_client())
        msg_id, _early = first_late_reply(sender, OFF_TOPIC, 5030, LATER_TEXT)
        give_up = time.monotonic() + 10
        while "late reply not sent" not in caplog.text:
            assert time.monotonic() < give_up, "the failed send was never logged"
            time.sleep(0.02)
    assert "45015" in caplog.text
    assert wait_until_recorded(db, message_dedup_key(msg_id)) not in ("", LATER_TEXT)


def test_a_dialogue_that_fails_after_the_deadline_sends_the_holding_text(
    database_path: Path, db, caplog
):
    db["conversations"].insert({"user": RESIDENT_KEY, "state": "{broken", "expires_at": 4e9})
    with WeChatStandIn(TEST_CONFIG["WECHAT_APP_ID"], TEST_CONFIG["WECHAT_APP_SECRET"]) as wechat:
        app = late_app(database_path, wechat)
        sender = sender_for(app, app.test_client())
        msg_id, early = first_late_reply(sender, OFF_TOPIC, 5060, LATER_TEXT)
        [late] = wait_until_sent(wechat)
    assert late.content == HOLDING_TEXT
    assert all(reply == HOLDING_TEXT for _, reply in early)  # failed in time: said at once
    assert (
        stored_reply(db, message_dedup_key(msg_id)) is None
    )  # released: a retry is processed afresh
