"""Plain mode: a signed query string carries one body only, across all workers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database
from webhook_support import (
    WeChatSender,
    plain_reply,
    sender_for,
    text_message,
)

from bot import create_app
from bot.wechat.replay import (
    check_plain_signature_reuse,
    plain_signature,
    plain_signature_seen,
    purge_plain_signatures,
    record_plain_signature,
)
from bot.wechat.security import RejectedRequest
from knowledge.db import write
from tests.conftest import TEST_CONFIG

OTHER_RESIDENT = "oSOMEONE_ELSE_openid_00000002"


def test_a_signed_query_reused_for_another_body_is_403(sender: WeChatSender, db: Database, caplog):
    query = sender.query()
    first = sender.client.post("/wechat", query_string=query, data=text_message("离婚冷静期多久"))
    assert "冷静期" in plain_reply(first)["Content"]
    forged = text_message("请问火星上的天气今天怎么样呀", user=OTHER_RESIDENT)
    response = sender.client.post("/wechat", query_string=query, data=forged)
    assert response.status_code == 403
    assert "plain-mode signature already used for a different body" in caplog.text
    assert db["processed_messages"].count == 1


def test_wechats_own_retry_with_the_same_query_and_body_gets_the_reply(sender: WeChatSender):
    query = sender.query()
    message = text_message("离婚冷静期多久")
    replies = [
        plain_reply(sender.client.post("/wechat", query_string=query, data=message))["Content"]
        for _ in range(3)
    ]
    assert len(set(replies)) == 1
    assert "冷静期" in replies[0]


def test_the_record_is_shared_by_every_worker(sender: WeChatSender, database_path: Path):
    other_worker = create_app({**TEST_CONFIG, "DATABASE": str(database_path)})
    other = sender_for(other_worker, other_worker.test_client())
    query = sender.query()
    accepted = sender.client.post("/wechat", query_string=query, data=text_message("你好"))
    assert accepted.status_code == 200
    reused = other.client.post(
        "/wechat", query_string=query, data=text_message("你好", user=OTHER_RESIDENT)
    )
    assert reused.status_code == 403


def test_the_record_lasts_while_the_timestamp_is_in_the_window(db: Database):
    now = 1_800_000_000.0
    triple = ("1800000000", "42", "signature")
    check_plain_signature_reuse(db, *triple, b"<xml>a</xml>", 600, now=now)
    with pytest.raises(RejectedRequest) as refused:
        check_plain_signature_reuse(db, *triple, b"<xml>b</xml>", 600, now=now + 599)
    assert refused.value.status == 403
    assert purge_plain_signatures(db, now=now + 599) == 0
    assert purge_plain_signatures(db, now=now + 601) == 1
    assert db["plain_signatures"].count == 0


def test_a_body_racing_under_the_same_triple_is_refused_in_the_write(db: Database):
    now = 1_800_000_000.0
    triple = ("1800000000", "43", "signature")
    first = plain_signature(*triple, b"<xml>a</xml>", 600, now=now)
    second = plain_signature(*triple, b"<xml>b</xml>", 600, now=now)
    # Both read the record before either wrote: neither has been seen.
    assert not plain_signature_seen(db, first) and not plain_signature_seen(db, second)
    with write(db):
        record_plain_signature(db, first)
    with pytest.raises(RejectedRequest) as refused, write(db):
        db.execute("INSERT INTO conversations (user, state, expires_at) VALUES ('x', '{}', 0)")
        record_plain_signature(db, second)
    assert refused.value.status == 403
    assert db["conversations"].count == 0  # the message's whole write rolled back
    with write(db):
        record_plain_signature(db, first)  # WeChat's own retry: the same body passes
    assert plain_signature_seen(db, first)
