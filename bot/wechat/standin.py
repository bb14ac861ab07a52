"""A local stand-in for the WeChat API server, for tests and demos on a machine offline.

It speaks the parts of ``api.weixin.qq.com`` Pufa calls, over real HTTP on loopback:
``POST /cgi-bin/stable_token`` and ``POST /cgi-bin/message/custom/send``, with WeChat's
JSON error codes (40001 invalid token, 40013 invalid AppID, 40125 invalid secret,
44003 empty content, 45002 content over 2048 bytes, 45015 outside the 48-hour window).
Everything it receives is kept in :attr:`WeChatStandIn.sent` for a test to check.

    with WeChatStandIn(app_id, secret) as wechat:
        app = create_app({"WECHAT_API_BASE": wechat.base_url, ...})
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

MAX_TEXT_BYTES = 2048


@dataclass
class SentMessage:
    """One 客服 message the stand-in accepted."""

    touser: str
    msgtype: str
    content: str


@dataclass
class _State:
    app_id: str
    secret: str
    token: str = ""
    token_fetches: int = 0
    closed_users: set[str] = field(default_factory=set)
    sent: list[SentMessage] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(code: int, message: str) -> Response:
    return jsonify({"errcode": code, "errmsg": message})


def _standin_app(state: _State) -> Flask:
    app = Flask("wechat_standin")

    @app.post("/cgi-bin/stable_token")
    def stable_token() -> Response:
        body: dict[str, Any] = request.get_json(silent=True) or {}
        if body.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if body.get("appid") != state.app_id:
            return _error(40013, "invalid appid")
        if body.get("secret") != state.secret:
            return _error(40125, "invalid appsecret")
        with state.lock:
            state.token_fetches += 1
            if not state.token or body.get("force_refresh"):
                state.token = secrets.token_hex(16)
            return jsonify({"access_token": state.token, "expires_in": 7200})

    @app.post("/cgi-bin/message/custom/send")
    def custom_send() -> Response:
        if not state.token or request.args.get("access_token") != state.token:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        body: dict[str, Any] = request.get_json(silent=True) or {}
        content = str((body.get("text") or {}).get("content", ""))
        if body.get("msgtype") != "text" or not content:
            return _error(44003, "empty news data")
        if len(content.encode("utf-8")) > MAX_TEXT_BYTES:
            return _error(45002, "content size out of limit")
        touser = str(body.get("touser", ""))
        if touser in state.closed_users:
            return _error(45015, "response out of time limit or subscription is canceled")
        with state.lock:
            state.sent.append(SentMessage(touser, "text", content))
        return _error(0, "ok")

    return app


class WeChatStandIn:
    """The stand-in, served on 127.0.0.1 at a free port while the ``with`` block runs."""

    def __init__(self, app_id: str, secret: str) -> None:
        self._state = _State(app_id, secret)
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, _standin_app(self._state))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """Where to point ``WECHAT_API_BASE``."""
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def sent(self) -> list[SentMessage]:
        """The 客服 messages accepted so far, oldest first."""
        with self._state.lock:
            return list(self._state.sent)

    @property
    def token_fetches(self) -> int:
        """How many times an access token was asked for."""
        return self._state.token_fetches

    def expire_token(self) -> None:
        """Invalidate the current access token, as WeChat does when it expires early."""
        with self._state.lock:
            self._state.token = ""

    def close_window(self, user: str) -> None:
        """Treat ``user`` as outside the 48-hour window (or unfollowed): 45015."""
        self._state.closed_users.add(user)

    def __enter__(self) -> WeChatStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
