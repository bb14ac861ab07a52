"""The JSON API: ``POST /api/ask`` runs the same dialogue residents get on WeChat."""

from __future__ import annotations

import logging
import re
from dataclasses import asdict

from flask import Blueprint, abort, jsonify, request
from werkzeug.wrappers import Response

from bot.dialogue import Incoming
from bot.responder import respond
from knowledge.matching.normalize import LONE_SURROGATE

bp = Blueprint("api", __name__, url_prefix="/api")
log = logging.getLogger(__name__)
MAX_TEXT_CHARS = 2000
MAX_USER_CHARS = 128
#: The id the web chat (bot/static/chat.js) makes up for each browser.
WEB_CHAT_USER = re.compile(r"web-[0-9a-f]{24}")


def well_formed(text: str) -> str:
    """``text`` with each lone surrogate (JSON allows them, Unicode text does not) as U+FFFD."""
    return LONE_SURROGATE.sub("\ufffd", text)


@bp.post("/ask")
def ask() -> Response:
    """Answer ``{"text": ..., "user": optional}`` with the dialogue's reply as JSON.

    400 when the body is not a JSON object with a non-empty string ``text``.
    """
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        log.info("api/ask: body is not a JSON object")
        abort(400, description='请求体应为JSON对象，如 {"text": "离婚冷静期多久"}')
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        log.info("api/ask: missing or empty text")
        abort(400, description="缺少 text 字段，或内容为空")
    if len(text) > MAX_TEXT_CHARS:
        log.info("api/ask: text of %d characters refused", len(text))
        abort(400, description=f"text 太长（最多{MAX_TEXT_CHARS}字）")
    user = payload.get("user") or f"api:{request.remote_addr}"
    if not isinstance(user, str) or len(user) > MAX_USER_CHARS:
        abort(400, description="user 应为不超过128个字符的文字")
    channel = "web" if WEB_CHAT_USER.fullmatch(user) else "api"
    reply = respond(Incoming(user=well_formed(user), text=well_formed(text), channel=channel))
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
