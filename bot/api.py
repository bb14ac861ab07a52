"""The JSON API: ``POST /api/ask`` runs the same dialogue residents get on WeChat.

Who is asking: the body's ``user`` (its own namespace, ``api:``, which no WeChat OpenID
shares); else the web chat's cookie (``web:``); else nobody in particular, and each
request stands alone. Every caller is also limited by its address. The API never waits
long for the database or takes every thread of a worker: a locked database or a full
worker answers 503 with ``Retry-After``, so the webhook keeps its one-second budget.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import asdict
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import ServiceUnavailable, TooManyRequests
from werkzeug.wrappers import Response

from bot.chat import web_chat_id
from bot.dialogue import Incoming
from bot.rate_limit import RateLimited
from bot.responder import MAX_TEXT_CHARS, respond_within_limit
from knowledge.db import busy_timeout, get_db
from knowledge.matching.normalize import LONE_SURROGATE

bp = Blueprint("api", __name__, url_prefix="/api")
log = logging.getLogger(__name__)
MAX_USER_CHARS = 128
#: Seconds a client is asked to wait after a 503 (database locked, or the worker is full).
BUSY_RETRY_AFTER = 5
#: SQLite's primary result codes for "another connection holds the lock".
_LOCK_ERRORS = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}


@bp.record_once
def _make_slots(state: BlueprintSetupState) -> None:
    """One semaphore per app (per worker process): API requests in progress at once."""
    slots = state.app.config["API_MAX_CONCURRENT"]
    if isinstance(slots, bool) or not isinstance(slots, int) or slots < 1:
        raise ValueError(f"API_MAX_CONCURRENT must be a whole number, 1 or more, not {slots!r}")
    state.app.extensions["api_slots"] = threading.BoundedSemaphore(slots)


def well_formed(text: str) -> str:
    """``text`` with each lone surrogate (JSON allows them, Unicode text does not) as U+FFFD."""
    return LONE_SURROGATE.sub("\ufffd", text)


def json_object(door: str, example: str) -> dict[str, Any]:
    """The request body as a JSON object; 400 for anything else (nested too deep included).

    ``door`` names the endpoint in the log line; ``example`` shows callers a good body.
    """
    try:
        payload = request.get_json(silent=True)
    except RecursionError:
        # json gives up on a body nested deeper than Python's recursion limit.
        log.info("%s: JSON body nested too deep", door)
        abort(400, description="JSON嵌套层数太多")
    if not isinstance(payload, dict):
        log.info("%s: body is not a JSON object", door)
        abort(400, description=f"请求体应为JSON对象，如 {example}")
    return payload


def _incoming(payload: dict[str, Any]) -> Incoming:
    """The message and whose namespace it belongs to; 400 for a bad ``text`` or ``user``."""
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        log.info("api/ask: missing or empty text")
        abort(400, description="缺少 text 字段，或内容为空")
    if len(text) > MAX_TEXT_CHARS:
        log.info("api/ask: text of %d characters refused", len(text))
        abort(400, description=f"text 太长（最多{MAX_TEXT_CHARS}字）")
    channel, user = request_caller(payload)
    return Incoming(user=user, text=well_formed(text), channel=channel)


def request_caller(payload: dict[str, Any]) -> tuple[str, str]:
    """Who is asking, as (channel, id): the body's ``user`` on "api", else the web chat's
    cookie on "web"; the id is "" for a caller with neither. 400 for a bad ``user``.

    Every JSON endpoint the web chat or API callers use names its caller this way, so a
    caller can never name a WeChat resident ("wx" comes only from signed webhook messages).
    """
    user = payload.get("user")
    if user is not None and (not isinstance(user, str) or len(user) > MAX_USER_CHARS):
        log.info("%s: user that is not a short string refused", request.path)
        abort(400, description="user 应为不超过128个字符的文字")
    if user:
        return "api", well_formed(user)
    return "web", web_chat_id(request)


@bp.post("/ask")
def ask() -> Response:
    """Answer ``{"text": ..., "user": optional}`` with the dialogue's reply as JSON.

    400 when the body is not a JSON object with a non-empty string ``text``; 429 with
    ``Retry-After`` when the caller is over its rate limit; 503 with ``Retry-After`` when
    the database stays locked past API_BUSY_TIMEOUT or the worker is at API_MAX_CONCURRENT.
    """
    incoming = _incoming(json_object("api/ask", '{"text": "离婚冷静期多久"}'))
    slots: threading.BoundedSemaphore = current_app.extensions["api_slots"]
    if not slots.acquire(blocking=False):
        log.warning("api/ask: API_MAX_CONCURRENT requests already in this worker; 503")
        raise ServiceUnavailable(retry_after=BUSY_RETRY_AFTER)
    try:
        return _answer(incoming)
    finally:
        slots.release()


def _answer(incoming: Incoming) -> Response:
    """The dialogue's reply to ``incoming`` as the API's JSON, the waits on the lock kept short."""
    try:
        with busy_timeout(get_db(), current_app.config["API_BUSY_TIMEOUT"]):
            reply = respond_within_limit(incoming, address=request.remote_addr or "")
    except RateLimited as limited:
        # Logged once per caller and minute by the limiter, not once per refusal.
        raise TooManyRequests(
            description=f"发送太频繁：每分钟最多{limited.limit}条，请{limited.retry_after}秒后再试",
            retry_after=limited.retry_after,
        ) from None
    except sqlite3.OperationalError as error:
        if error.sqlite_errorcode & 0xFF not in _LOCK_ERRORS:
            raise
        log.warning("api/ask: database busy (%s); 503", error)
        raise ServiceUnavailable(retry_after=BUSY_RETRY_AFTER) from None
    assert reply is not None  # text always gets a reply
    body = asdict(reply)
    return jsonify(
        {
            "kind": body["kind"],
            "reply": body["text"],
            "entry_id": body["entry_id"],
            "score": body["score"],
            "choices": body["choices"],
        }
    )
