"""A local stand-in for the WeChat API server, for tests and demos on a machine offline.

It speaks the parts of ``api.weixin.qq.com`` Pufa calls, over real HTTP on loopback, with
WeChat's JSON error codes: the access token (``stable_token``), 客服 messages
(``message/custom/send``: 44003 empty, 45002 over 2048 bytes, 45015 outside the 48-hour
window), mass sends (``message/mass/sendall``, ``mass/send``, ``mass/preview``,
``mass/get``; a ``clientmsgid`` repeated within 24 hours is refused with 45065, as WeChat
does), articles (``draft/add``, ``media/uploadimg``, ``material/add_material``),
``tags/get`` and ``menu/create``.

Every call is kept in :attr:`WeChatStandIn.calls`; accepted messages in ``sent`` (客服)
and ``mass_sends``. :meth:`WeChatStandIn.inject` makes an endpoint fail (the first N calls,
or every call) or answer slowly. Given ``event_url``, each accepted mass send is followed
by WeChat's ``MASSSENDJOBFINISH`` event posted to that webhook.

    with WeChatStandIn(app_id, secret) as wechat:
        app = create_app({"WECHAT_API_BASE": wechat.base_url, ...})
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import requests
from flask import Flask, Response, jsonify, request
from werkzeug.serving import BaseWSGIServer, make_server

log = logging.getLogger(__name__)

MAX_TEXT_BYTES = 2048
MAX_MASS_TEXT_CHARS = 300
CLIENTMSGID_WINDOW = 24 * 3600.0
MASS_TYPES = ("text", "mpnews", "image", "voice", "mpvideo", "wxcard")


@dataclass
class SentMessage:
    """One 客服 message the stand-in accepted."""

    touser: str
    msgtype: str
    content: str


@dataclass
class MassSend:
    """One mass send (群发) the stand-in accepted."""

    msg_id: int
    endpoint: str
    body: dict[str, Any]
    at: float


@dataclass
class Call:
    """One request the stand-in received, whatever it answered."""

    endpoint: str
    body: dict[str, Any]
    errcode: int
    at: float


@dataclass
class Fault:
    """What an endpoint does wrong: ``errcode`` for ``times`` calls (None: always), slowly."""

    errcode: int = 0
    errmsg: str = "system error"
    times: int | None = None
    delay: float = 0.0


@dataclass
class _State:
    app_id: str
    secret: str
    token: str = ""
    token_fetches: int = 0
    closed_users: set[str] = field(default_factory=set)
    sent: list[SentMessage] = field(default_factory=list)
    mass_sends: list[MassSend] = field(default_factory=list)
    previews: list[dict[str, Any]] = field(default_factory=list)
    drafts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    menus: list[list[dict[str, Any]]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    clientmsgids: dict[str, float] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    tags: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"id": 2, "name": "星标组", "count": 0},
            {"id": 100, "name": "景区居民", "count": 3},
        ]
    )
    event_url: str = ""
    event_token: str = ""
    event_delay: float = 1.0
    ids: count = field(default_factory=lambda: count(1000000001))
    lock: threading.Lock = field(default_factory=threading.Lock)


def _error(code: int, message: str) -> Response:
    return jsonify({"errcode": code, "errmsg": message})


def _standin_app(state: _State) -> Flask:
    app = Flask("wechat_standin")

    def record(endpoint: str, body: dict[str, Any], errcode: int) -> None:
        with state.lock:
            state.calls.append(Call(endpoint, body, errcode, time.time()))

    def refusal(endpoint: str) -> Response | None:
        """The token check and any injected fault, recorded; None when the call may proceed."""
        body = request.get_json(silent=True) or {}
        if not state.token or request.args.get("access_token") != state.token:
            record(endpoint, body, 40001)
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        with state.lock:
            fault = state.faults.get(endpoint)
            if fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times < 0:
                    del state.faults[endpoint]
                    fault = Fault(delay=fault.delay) if fault.delay else None
        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.errcode:
            record(endpoint, body, fault.errcode)
            return _error(fault.errcode, fault.errmsg)
        return None

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

    def message_problem(body: dict[str, Any]) -> tuple[int, str] | None:
        msgtype = body.get("msgtype")
        if msgtype not in MASS_TYPES:
            return 40008, "invalid message type"
        if msgtype == "text":
            content = str((body.get("text") or {}).get("content", ""))
            if not content:
                return 44003, "empty content"
            if len(content) > MAX_MASS_TEXT_CHARS:
                return 45002, "content size out of limit"
        if msgtype == "mpnews" and (body.get("mpnews") or {}).get("media_id") not in state.drafts:
            return 40007, "invalid media_id"
        return None

    def accept_mass(endpoint: str) -> Response:
        refused = refusal(endpoint)
        if refused is not None:
            return refused
        body: dict[str, Any] = request.get_json(silent=True) or {}
        problem = message_problem(body)
        if problem is None and endpoint.endswith("sendall"):
            audience = body.get("filter") or {}
            if not audience.get("is_to_all") and not isinstance(audience.get("tag_id"), int):
                problem = 40050, "invalid tag id"
        if problem is None and endpoint.endswith("/send") and not body.get("touser"):
            problem = 40003, "invalid openid"
        clientmsgid = str(body.get("clientmsgid", ""))
        if problem is None and len(clientmsgid) > 64:
            problem = 45067, "clientmsgid size out of limit"
        now = time.time()
        with state.lock:
            if problem is None and clientmsgid:
                first = state.clientmsgids.get(clientmsgid)
                if first is not None and now - first < CLIENTMSGID_WINDOW:
                    problem = 45065, "clientmsgid exist"
                else:
                    state.clientmsgids[clientmsgid] = now
            if problem is None:
                msg_id = next(state.ids)
                state.mass_sends.append(MassSend(msg_id, endpoint, body, now))
        if problem is not None:
            record(endpoint, body, problem[0])
            return _error(*problem)
        record(endpoint, body, 0)
        if state.event_url:
            threading.Thread(target=_post_job_finish, args=(state, msg_id), daemon=True).start()
        return jsonify(
            {
                "errcode": 0,
                "errmsg": "send job submission success",
                "msg_id": msg_id,
                "msg_data_id": msg_id + 1,
            }
        )

    @app.post("/cgi-bin/message/mass/sendall")
    def mass_sendall() -> Response:
        return accept_mass("message/mass/sendall")

    @app.post("/cgi-bin/message/mass/send")
    def mass_send() -> Response:
        return accept_mass("message/mass/send")

    @app.post("/cgi-bin/message/mass/preview")
    def mass_preview() -> Response:
        endpoint = "message/mass/preview"
        refused = refusal(endpoint)
        if refused is not None:
            return refused
        body: dict[str, Any] = request.get_json(silent=True) or {}
        problem = message_problem(body)
        if problem is None and not (body.get("touser") or body.get("towxname")):
            problem = 40003, "invalid openid"
        if problem is not None:
            record(endpoint, body, problem[0])
            return _error(*problem)
        record(endpoint, body, 0)
        with state.lock:
            state.previews.append(body)
        return jsonify({"errcode": 0, "errmsg": "preview success", "msg_id": next(state.ids)})

    @app.post("/cgi-bin/message/mass/get")
    def mass_get() -> Response:
        endpoint = "message/mass/get"
        refused = refusal(endpoint)
        if refused is not None:
            return refused
        body: dict[str, Any] = request.get_json(silent=True) or {}
        known = {send.msg_id for send in state.mass_sends}
        if body.get("msg_id") not in known and str(body.get("msg_id")) not in map(str, known):
            record(endpoint, body, 40003)
            return _error(40003, "invalid msg_id")
        record(endpoint, body, 0)
        return jsonify({"msg_id": body["msg_id"], "msg_status": "SEND_SUCCESS"})

    @app.post("/cgi-bin/draft/add")
    def draft_add() -> Response:
        endpoint = "draft/add"
        refused = refusal(endpoint)
        if refused is not None:
            return refused
        body: dict[str, Any] = request.get_json(silent=True) or {}
        articles = body.get("articles")
        if not isinstance(articles, list) or not articles:
            record(endpoint, body, 44003)
            return _error(44003, "empty news data")
        for article in articles:
            title = str(article.get("title", ""))
            if not title or len(title.encode("utf-8")) > 64:
                record(endpoint, body, 45003)
                return _error(45003, "title size out of limit")
            if not article.get("content") or not article.get("thumb_media_id"):
                record(endpoint, body, 40007)
                return _error(40007, "invalid media_id")
        record(endpoint, body, 0)
        media_id = "draft-" + secrets.token_hex(8)
        with state.lock:
            state.drafts[media_id] = articles
        return jsonify({"media_id": media_id})

    def uploaded(endpoint: str) -> tuple[Response | None, bytes]:
        refused = refusal(endpoint)
        if refused is not None:
            return refused, b""
        media = request.files.get("media")
        data = media.read() if media is not None else b""
        if not data:
            record(endpoint, {}, 41005)
            return _error(41005, "media data missing"), b""
        record(endpoint, {"filename": media.filename, "size": len(data)}, 0)
        return None, data

    @app.post("/cgi-bin/media/uploadimg")
    def media_uploadimg() -> Response:
        refused, data = uploaded("media/uploadimg")
        if refused is not None:
            return refused
        digest = hashlib.sha1(data).hexdigest()
        return jsonify({"url": f"http://mmbiz.qpic.cn/standin/{digest}/0"})

    @app.post("/cgi-bin/material/add_material")
    def material_add() -> Response:
        refused, data = uploaded("material/add_material")
        if refused is not None:
            return refused
        digest = hashlib.sha1(data).hexdigest()
        return jsonify(
            {
                "media_id": f"material-{digest[:16]}",
                "url": f"http://mmbiz.qpic.cn/standin/{digest}/0",
            }
        )

    @app.get("/cgi-bin/tags/get")
    def tags_get() -> Response:
        refused = refusal("tags/get")
        if refused is not None:
            return refused
        record("tags/get", {}, 0)
        return jsonify({"tags": state.tags})

    @app.post("/cgi-bin/menu/create")
    def menu_create() -> Response:
        endpoint = "menu/create"
        refused = refusal(endpoint)
        if refused is not None:
            return refused
        body: dict[str, Any] = request.get_json(silent=True) or {}
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            record(endpoint, body, 40016)
            return _error(40016, "invalid button size")
        for button in buttons:
            subs = button.get("sub_button") or []
            if len(subs) > 5:
                record(endpoint, body, 40023)
                return _error(40023, "invalid sub button size")
            for item in [button, *subs]:
                if len(str(item.get("name", "")).encode("utf-8")) > (60 if item in subs else 16):
                    record(endpoint, body, 40018)
                    return _error(40018, "invalid button name size")
        record(endpoint, body, 0)
        with state.lock:
            state.menus.append(buttons)
        return _error(0, "ok")

    return app


def _post_job_finish(state: _State, msg_id: int) -> None:
    """Post WeChat's MASSSENDJOBFINISH event for ``msg_id`` to the configured webhook."""
    time.sleep(state.event_delay)
    timestamp, nonce = str(int(time.time())), secrets.token_hex(4)
    signature = hashlib.sha1("".join(sorted([state.event_token, timestamp, nonce])).encode())
    xml = (
        "<xml><ToUserName><![CDATA[gh_standin]]></ToUserName>"
        "<FromUserName><![CDATA[mphelper]]></FromUserName>"
        f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[MASSSENDJOBFINISH]]></Event>"
        f"<MsgID>{msg_id}</MsgID><Status><![CDATA[send success]]></Status>"
        "<TotalCount>3</TotalCount><FilterCount>3</FilterCount>"
        "<SentCount>3</SentCount><ErrorCount>0</ErrorCount></xml>"
    )
    params = {"signature": signature.hexdigest(), "timestamp": timestamp, "nonce": nonce}
    try:
        requests.post(state.event_url, params=params, data=xml.encode("utf-8"), timeout=5)
    except requests.RequestException as error:
        log.warning("stand-in could not post MASSSENDJOBFINISH to %s: %s", state.event_url, error)


class WeChatStandIn:
    """The stand-in, served on 127.0.0.1 (a free port unless given) while ``with`` runs."""

    def __init__(
        self,
        app_id: str,
        secret: str,
        port: int = 0,
        event_url: str = "",
        event_token: str = "",
        event_delay: float = 1.0,
    ) -> None:
        self._state = _State(app_id, secret, event_url=event_url, event_token=event_token)
        self._state.event_delay = event_delay
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", port, _standin_app(self._state), threaded=True
        )
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
    def mass_sends(self) -> list[MassSend]:
        """The mass sends accepted so far (what followers would receive), oldest first."""
        with self._state.lock:
            return list(self._state.mass_sends)

    @property
    def previews(self) -> list[dict[str, Any]]:
        """The previews accepted so far."""
        with self._state.lock:
            return list(self._state.previews)

    @property
    def drafts(self) -> dict[str, list[dict[str, Any]]]:
        """The 草稿箱: media_id → the articles saved under it."""
        with self._state.lock:
            return dict(self._state.drafts)

    @property
    def menus(self) -> list[list[dict[str, Any]]]:
        """Every menu set so far, the current one last."""
        with self._state.lock:
            return list(self._state.menus)

    def calls(self, endpoint: str | None = None) -> list[Call]:
        """Every request received (to ``endpoint``, e.g. "message/mass/sendall"), oldest first."""
        with self._state.lock:
            return [c for c in self._state.calls if endpoint in (None, c.endpoint)]

    @property
    def token_fetches(self) -> int:
        """How many times an access token was asked for."""
        return self._state.token_fetches

    def inject(
        self,
        endpoint: str,
        errcode: int = -1,
        times: int | None = None,
        delay: float = 0.0,
        errmsg: str = "system error",
    ) -> None:
        """Make ``endpoint`` answer ``errcode`` for the next ``times`` calls (None: every call).

        ``errcode=0`` with a ``delay`` only slows the endpoint down.
        """
        with self._state.lock:
            self._state.faults[endpoint] = Fault(errcode, errmsg, times, delay)

    def expire_token(self) -> None:
        """Invalidate the current access token, as WeChat does when it expires early."""
        with self._state.lock:
            self._state.token = ""

    def close_window(self, user: str) -> None:
        """Treat ``user`` as outside the 48-hour window (or unfollowed): 45015."""
        self._state.closed_users.add(user)

    def serve_forever(self) -> None:
        """Serve in this thread until interrupted (``flask wechat standin``)."""
        self._server.serve_forever()

    def __enter__(self) -> WeChatStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
