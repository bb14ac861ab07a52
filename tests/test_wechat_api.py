"""The WeChat API client against the local stand-in, over real HTTP on loopback."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sqlite_utils import Database

from bot import create_app
from bot.wechat.api import WeChatAPI, WeChatAPIError, api_for
from bot.wechat.standin import WeChatStandIn
from knowledge.db import connect
from tests.conftest import TEST_CONFIG

APP_ID, SECRET = TEST_CONFIG["WECHAT_APP_ID"], TEST_CONFIG["WECHAT_APP_SECRET"]
RESIDENT = "oResident0000000000000000001"


@pytest.fixture
def wechat() -> Iterator[WeChatStandIn]:
    """The stand-in WeChat API server for this test's account."""
    with WeChatStandIn(APP_ID, SECRET) as server:
        yield server


def client(db: Database, wechat: WeChatStandIn, secret: str = SECRET) -> WeChatAPI:
    return WeChatAPI(db, wechat.base_url, APP_ID, secret, timeout=2.0)


def test_a_text_reaches_the_resident(db: Database, wechat: WeChatStandIn) -> None:
    client(db, wechat).send_text(RESIDENT, "您好，离婚冷静期是30天。")
    assert [(m.touser, m.content) for m in wechat.sent] == [(RESIDENT, "您好，离婚冷静期是30天。")]


def test_workers_share_one_token_through_the_database(
    db: Database, database_path, wechat: WeChatStandIn
) -> None:
    other_worker = connect(database_path)
    try:
        client(db, wechat).send_text(RESIDENT, "第一条")
        client(other_worker, wechat).send_text(RESIDENT, "第二条")
    finally:
        other_worker.close()
    assert wechat.token_fetches == 1
    assert [m.content for m in wechat.sent] == ["第一条", "第二条"]


def test_a_token_near_its_expiry_is_renewed(db: Database, wechat: WeChatStandIn) -> None:
    api = client(db, wechat)
    api.send_text(RESIDENT, "第一条")
    db.execute("UPDATE wechat_tokens SET expires_at = strftime('%s', 'now') + 60")
    api.send_text(RESIDENT, "第二条")
    assert wechat.token_fetches == 2


def test_a_refused_token_is_renewed_once_and_the_call_retried(
    db: Database, wechat: WeChatStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.wechat.api")
    api = client(db, wechat)
    api.send_text(RESIDENT, "第一条")
    wechat.expire_token()
    api.send_text(RESIDENT, "第二条")
    assert wechat.token_fetches == 2
    assert [m.content for m in wechat.sent] == ["第一条", "第二条"]
    assert "token refused (40001); renewing it once" in caplog.text


def test_a_wrong_secret_is_a_clear_error_and_stores_nothing(
    db: Database, wechat: WeChatStandIn
) -> None:
    with pytest.raises(WeChatAPIError, match="40125") as refused:
        client(db, wechat, secret="wrong").send_text(RESIDENT, "您好")
    assert refused.value.errcode == 40125
    assert db["wechat_tokens"].count == 0
    assert wechat.sent == []


def test_outside_the_48_hour_window_the_error_says_so_without_retrying(
    db: Database, wechat: WeChatStandIn
) -> None:
    wechat.close_window(RESIDENT)
    with pytest.raises(WeChatAPIError) as refused:
        client(db, wechat).send_text(RESIDENT, "您好")
    assert refused.value.errcode == 45015
    assert wechat.token_fetches == 1


def test_a_text_over_2048_bytes_is_refused(db: Database, wechat: WeChatStandIn) -> None:
    with pytest.raises(WeChatAPIError, match="45002"):
        client(db, wechat).send_text(RESIDENT, "法" * 683)  # 2,049 bytes


def test_an_unreachable_server_is_a_clear_error(db: Database) -> None:
    api = WeChatAPI(db, "http://127.0.0.1:9", APP_ID, SECRET, timeout=2.0)
    with pytest.raises(WeChatAPIError, match="unreachable"):
        api.send_text(RESIDENT, "您好")


def test_a_server_that_answers_no_json_is_a_clear_error(
    db: Database, wechat: WeChatStandIn
) -> None:
    api = WeChatAPI(db, wechat.base_url + "/nowhere", APP_ID, SECRET, timeout=2.0)
    with pytest.raises(WeChatAPIError, match="HTTP 404 without JSON"):
        api.send_text(RESIDENT, "您好")


def test_without_an_app_secret_there_is_no_client(database_path) -> None:
    app = create_app({**TEST_CONFIG, "DATABASE": str(database_path), "WECHAT_APP_SECRET": ""})
    database = connect(database_path)
    try:
        assert api_for(app, database) is None
    finally:
        database.close()
