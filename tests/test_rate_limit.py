"""Abuse cannot flood staff or the disk: per-caller rate limits and the daily unanswered cap.

Over real HTTP on loopback. The counters live in the database, so two app instances on one
file (as two gunicorn workers are) count together.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlite_utils import Database

from bot import create_app
from bot.rate_limit import (
    BEIJING_OFFSET,
    DAY,
    RATE_LIMITED_TEXT,
    RateLimited,
    count_message,
    over_message_rate,
    purge_rate_counters,
    take_unanswered_slot,
)
from bot.responder import MAX_TEXT_CHARS
from knowledge.db import write
from knowledge.unanswered import count_unanswered
from tests.browser_support import served
from tests.conftest import TEST_CONFIG
from tests.http_support import LoopbackClient
from tests.webhook_support import RESIDENT, sender_for, text_message, warm_matcher

OFF_TOPIC = "请问火星上今天的天气怎么样呀"


@pytest.fixture(autouse=True)
def same_minute() -> None:
    """Start well inside a minute, so that no test's messages straddle two windows."""
    into = time.time() % 60
    if into > 50:
        time.sleep(60.5 - into)


@contextmanager
def serve(database_path: Path, **config: object) -> Iterator[LoopbackClient]:
    """The app with ``config`` on ``database_path``, served on a free loopback port."""
    app = create_app({**TEST_CONFIG, "DATABASE": str(database_path), **config})
    warm_matcher(app)
    with served(app) as server:
        yield LoopbackClient(f"http://127.0.0.1:{server.server_port}")


@pytest.fixture
def http(database_path: Path) -> Iterator[LoopbackClient]:
    """The app with the default limits, on a free loopback port."""
    with serve(database_path) as client:
        yield client


def unanswered_count(db: Database) -> int:
    """How many questions the staff's queue holds (turns past the cap are counted, textless)."""
    return count_unanswered(db)


def test_a_wechat_resident_over_20_a_minute_gets_the_short_reply(
    app: Flask, http: LoopbackClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    wechat = sender_for(app, http)  # type: ignore[arg-type]
    for _ in range(20):
        reply = wechat.exchange("plain", text_message(OFF_TOPIC))["Content"]
        assert reply != RATE_LIMITED_TEXT
    assert unanswered_count(db) == 20
    for mode in ("plain", "safe", "compatible"):
        limited = wechat.exchange(mode, text_message(OFF_TOPIC))
        assert limited["Content"] == RATE_LIMITED_TEXT  # an ordinary passive reply
        assert limited["ToUserName"] == RESIDENT and limited["MsgType"] == "text"
    # No matching work and nothing for staff; one log line for the minute, not one each.
    assert unanswered_count(db) == 20
    assert caplog.text.count("rate limit:") == 1
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("bot")]
    assert not any(RESIDENT in line for line in ours)  # logged as the keyed hash
    # Another resident is not affected.
    other = wechat.exchange("plain", text_message("离婚冷静期多久", user="oOTHER_resident_0002"))
    assert "冷静期" in other["Content"]


def test_the_api_answers_429_with_retry_after_past_the_limit(
    database_path: Path, db: Database
) -> None:
    with serve(database_path, RATE_LIMIT_PER_MINUTE=5, RATE_LIMIT_PER_ADDRESS_PER_MINUTE=0) as http:
        for _ in range(5):
            assert http.post("/api/ask", json={"text": OFF_TOPIC, "user": "u1"}).status_code == 200
        refused = http.post("/api/ask", json={"text": OFF_TOPIC, "user": "u1"})
        other = http.post("/api/ask", json={"text": OFF_TOPIC, "user": "u2"})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    error = refused.get_json()
    assert error["status"] == 429 and error["error"] and "每分钟最多5条" in error["detail"]
    assert other.status_code == 200
    assert unanswered_count(db) == 6  # u1's five and u2's one: the refused one is not queued


def test_changing_or_omitting_user_does_not_escape_the_address_limit(
    database_path: Path,
) -> None:
    with serve(database_path, RATE_LIMIT_PER_ADDRESS_PER_MINUTE=6) as http:
        statuses = [
            http.post("/api/ask", json={"text": "你好", "user": f"fresh-{n}"}).status_code
            for n in range(4)
        ]
        statuses += [http.post("/api/ask", json={"text": "你好"}).status_code for _ in range(4)]
    assert statuses == [200] * 6 + [429] * 2


def test_two_workers_on_one_database_count_together(database_path: Path) -> None:
    limit = {"RATE_LIMIT_PER_MINUTE": 4}
    with serve(database_path, **limit) as first, serve(database_path, **limit) as second:
        statuses = [
            worker.post("/api/ask", json={"text": "你好", "user": "both"}).status_code
            for worker in (first, second, first, second, first, second)
        ]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_one_caller_adds_at_most_the_daily_cap_to_the_staff_queue(
    database_path: Path, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with serve(database_path, UNANSWERED_PER_CALLER_PER_DAY=3) as http:
        kinds = [
            http.post("/api/ask", json={"text": f"{OFF_TOPIC}{n}", "user": "flood"}).get_json()
            for n in range(6)
        ]
        assert [kind["kind"] for kind in kinds] == ["fallback"] * 6  # still answered
        assert unanswered_count(db) == 3
        # The three over the cap still count as turns, but keep no text for staff.
        texts = [row[0] for row in db.execute("SELECT text FROM turns ORDER BY id").fetchall()]
        assert texts == [f"{OFF_TOPIC}{n}" for n in range(3)] + [None] * 3
        # Logged once per caller when it reaches the cap: the user, and its address.
        assert caplog.text.count("unanswered cap:") == 2
        # The address counted those six too: it is over its own cap, with or without a user.
        http.post("/api/ask", json={"text": f"{OFF_TOPIC}匿名", "user": "another"})
        http.post("/api/ask", json={"text": f"{OFF_TOPIC}匿名"})
    assert unanswered_count(db) == 3


def test_a_long_webhook_text_is_cut_before_matching(app: Flask, http: LoopbackClient) -> None:
    # The first MAX_TEXT_CHARS characters are an article look-up; what follows is never read.
    ask = "民法典第1079条"
    text = ask + "。" * (MAX_TEXT_CHARS - len(ask)) + "广告" * 3000
    wechat = sender_for(app, http)  # type: ignore[arg-type]
    reply = wechat.exchange("plain", text_message(text))["Content"]
    assert "夫妻一方要求离婚的" in reply


def check_message_rate(db: Database, limits: dict[str, int], now: float) -> None:
    """Count one message in a write of its own, as the message's write does; raise if over."""
    with write(db):
        refused = count_message(db, limits, now)
    if refused is not None:
        raise refused


def take_slot(db: Database, callers: list[str], per_day: int, now: float) -> bool:
    with write(db):
        return take_unanswered_slot(db, callers, per_day, now)


def test_counts_start_again_each_minute_and_each_beijing_day(bare_db: Database) -> None:
    minute_start = 1_800_000_000 // 60 * 60
    for second in (0, 10, 20):
        assert over_message_rate(bare_db, {"wx:a": 3}, now=minute_start + second) is None
        check_message_rate(bare_db, {"wx:a": 3}, now=minute_start + second)
    # The read ahead of the dialogue already knows; the count in the write decides.
    ahead = over_message_rate(bare_db, {"wx:a": 3}, now=minute_start + 45)
    assert ahead is not None and ahead.retry_after == 15
    with pytest.raises(RateLimited) as refused:
        check_message_rate(bare_db, {"wx:a": 3}, now=minute_start + 45)
    assert refused.value.retry_after == 15
    assert over_message_rate(bare_db, {"wx:a": 3}, now=minute_start + 60) is None
    check_message_rate(bare_db, {"wx:a": 3}, now=minute_start + 60)  # a new minute

    # 2027-01-15 23:59 and 2027-01-16 00:01 in Beijing are two days.
    before_midnight = 1_800_000_000 - (1_800_000_000 + BEIJING_OFFSET) % DAY + DAY - 60
    assert take_slot(bare_db, ["wx:a"], 1, now=before_midnight)
    assert not take_slot(bare_db, ["wx:a"], 1, now=before_midnight + 30)
    assert take_slot(bare_db, ["wx:a"], 1, now=before_midnight + 120)


def test_expired_counters_are_purged(bare_db: Database) -> None:
    check_message_rate(bare_db, {f"api:{n}": 5 for n in range(10)}, now=1_800_000_000)
    assert bare_db["rate_counters"].count == 10
    check_message_rate(bare_db, {"api:later": 5}, now=1_800_000_000 + 120)
    assert bare_db["rate_counters"].count == 11  # counting never purges: the timer does
    assert purge_rate_counters(bare_db, now=1_800_000_000 + 120) == 10
    assert [row["key"] for row in bare_db["rate_counters"].rows] == ["min:api:later"]
