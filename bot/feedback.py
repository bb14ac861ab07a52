"""``POST /api/feedback``: the web chat's 👍/👎 under an answer, recorded against its entry.

Who rates is found as ``/api/ask`` finds who asks: the body's ``user`` (``api:``), else the
web chat's cookie (``web:``); only an answer that caller received can be rated.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, jsonify, request
from werkzeug.wrappers import Response

from bot.api import MAX_USER_CHARS, json_object, well_formed
from bot.chat import web_chat_id
from knowledge.db import get_db
from knowledge.residents import hash_secret, resident_key
from knowledge.turns import rate_answer

bp = Blueprint("feedback", __name__, url_prefix="/api")
log = logging.getLogger(__name__)
_MAX_ENTRY_ID = 2**63 - 1


@bp.post("/feedback")
def rate() -> Response:
    """Record ``{"entry_id": N, "helpful": true|false, "user": optional}`` for the caller's answer.

    400 for a body that is not such an object; 404 when this caller was never given the
    answer of that entry (a rating is only taken for an answer actually received).
    """
    payload = json_object("api/feedback", '{"entry_id": 93, "helpful": false}')
    entry_id = payload.get("entry_id")
    helpful = payload.get("helpful")
    user = payload.get("user")
    if (
        isinstance(entry_id, bool)
        or not isinstance(entry_id, int)
        or not 0 < entry_id <= _MAX_ENTRY_ID
    ):
        log.info("api/feedback: bad entry_id %r", str(entry_id)[:40])
        abort(400, description="entry_id 应为条目编号（正整数）")
    if not isinstance(helpful, bool):
        log.info("api/feedback: bad helpful %r", str(helpful)[:40])
        abort(400, description="helpful 应为 true（有用）或 false（没用）")
    if user is not None and (not isinstance(user, str) or len(user) > MAX_USER_CHARS):
        log.info("api/feedback: user that is not a short string refused")
        abort(400, description="user 应为提问时用的 user（不超过128个字符）")
    channel, caller = ("api", well_formed(user)) if user else ("web", web_chat_id(request))
    if not caller:
        log.info("api/feedback: no user and no web chat cookie")
        abort(400, description="缺少 user：请用提问时的 user，或在网页聊天里点")
    resident = resident_key(hash_secret(current_app.config), channel, caller)
    if not rate_answer(
        get_db(), channel=channel, resident=resident, entry_id=entry_id, helpful=helpful
    ):
        log.info("api/feedback: %s never got the answer of entry %d", resident[:7], entry_id)
        abort(404, description="没有找到您收到过的这条回答")
    log.info("api/feedback: entry %d rated %s", entry_id, "helpful" if helpful else "unhelpful")
    return jsonify({"recorded": True, "entry_id": entry_id, "helpful": helpful})
