"""Residents' conversations belong to residents: the API and the web chat cannot reach them.

Over real HTTP on loopback: the webhook (signed as WeChat signs) and /api/ask share one
server and one database, as in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlite_utils import Database

from bot import create_app
from bot.chat import WEB_CHAT_COOKIE
from knowledge.residents import hash_secret, resident_key
from knowledge.store import entries_by_topic
from tests.browser_support import served
from tests.conftest import TEST_CONFIG
from tests.http_support import LoopbackClient
from tests.webhook_support import RESIDENT, WeChatSender, sender_for, text_message, warm_matcher


@pytest.fixture
def http(app: Flask) -> Iterator[LoopbackClient]:
    """A client of ``app`` served on a free loopback port."""
    warm_matcher(app)
    with served(app) as server:
        yield LoopbackClient(f"http://127.0.0.1:{server.server_port}")


@pytest.fixture
def wechat(app: Flask, http: LoopbackClient) -> WeChatSender:
    """Signs requests as WeChat does and sends them over ``http``."""
    return sender_for(app, http)  # type: ignore[arg-type]


def api(http: LoopbackClient, text: str, **extra: str) -> dict:
    response = http.post("/api/ask", json={"text": text, **extra})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_api_cannot_pick_a_wechat_residents_choices(
    app: Flask, db: Database, http: LoopbackClient, wechat: WeChatSender
) -> None:
    listed = entries_by_topic(db, "antifraud")
    offered = wechat.exchange("plain", text_message("防范诈骗"))["Content"]
    assert f"2. {listed[1].question}" in offered

    # A caller who knows the resident's OpenID sends "1" and "原文" as that "user".
    stolen = api(http, "1", user=RESIDENT)
    assert stolen["kind"] == "help" and stolen["entry_id"] is None
    assert api(http, "原文", user=RESIDENT)["kind"] != "answer"

    # The resident's own choice still works: nothing of theirs was touched.
    picked = wechat.exchange("safe", text_message("2"))["Content"]
    assert listed[1].answer.splitlines()[0][:12] in picked
    assert "过期" not in picked

    users = [row[0] for row in db.execute("SELECT user FROM conversations")]
    assert resident_key(hash_secret(app.config), "wx", RESIDENT) in users
    assert all(user.split(":")[0] in {"wx", "api", "web"} for user in users)
    everything = "\n".join(str(row) for row in db.execute("SELECT * FROM conversations"))
    assert RESIDENT not in everything


def test_api_users_keep_their_own_state_apart_from_wechat(
    http: LoopbackClient, wechat: WeChatSender, db: Database
) -> None:
    listed = entries_by_topic(db, "marriage")
    assert api(http, "婚姻家庭", user=RESIDENT)["kind"] == "choices"
    # The resident on WeChat has no choices pending: the API user's list is not theirs.
    assert "过期" in wechat.exchange("plain", text_message("1"))["Content"]
    assert api(http, "1", user=RESIDENT)["entry_id"] == listed[0].id


def test_callers_without_a_user_do_not_share_one_state(http: LoopbackClient, db: Database) -> None:
    assert api(http, "防范诈骗")["kind"] == "choices"
    # Same address, no user: the next request stands alone, it cannot pick from that list.
    follow_up = api(http, "1")
    assert follow_up["kind"] == "help" and follow_up["entry_id"] is None
    assert db.execute("SELECT count(*) FROM conversations").fetchone()[0] == 0


def test_the_web_chat_cookie_keeps_one_browsers_choices(
    app: Flask, http: LoopbackClient, db: Database
) -> None:
    page = http.get("/")
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith(f"{WEB_CHAT_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    browser_id = http.session.cookies[WEB_CHAT_COOKIE]
    listed = entries_by_topic(db, "antifraud")
    assert api(http, "防范诈骗")["kind"] == "choices"
    assert api(http, "1")["entry_id"] == listed[0].id
    key = resident_key(hash_secret(app.config), "web", browser_id)
    assert db.execute("SELECT count(*) FROM conversations WHERE user = ?", [key]).fetchone()[0]
    # Another browser (no cookie) cannot pick from this one's list.
    stranger = LoopbackClient(http.base_url)
    assert api(stranger, "1")["kind"] == "help"
    # A forged cookie that is not one of ours is ignored, not trusted as an id.
    http.session.cookies.set(WEB_CHAT_COOKIE, "x" * 32)
    assert api(http, "1")["kind"] == "help"


def test_the_web_chat_cookie_is_secure_over_https(database_path: Path) -> None:
    app = create_app({**TEST_CONFIG, "DATABASE": str(database_path), "PROXY_HOPS": 1})
    with served(app) as server:
        client = LoopbackClient(f"http://127.0.0.1:{server.server_port}")
        page = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in page.headers["Set-Cookie"]
