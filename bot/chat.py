"""The WeChat-style web chat at ``/``: try Pufa in a browser, no official account needed.

The page gives each browser a random id in a cookie (HttpOnly, SameSite=Lax, Secure over
HTTPS); the chat's questions to ``/api/ask`` carry it, and the dialogue keeps that
browser's pending choices and 更多 pages under it, in the ``web:`` namespace.
"""

from __future__ import annotations

import re
import secrets

from flask import Blueprint, Request, make_response, render_template, request
from werkzeug.wrappers import Response

from knowledge.db import get_db
from knowledge.settings import get_settings, setting_text
from knowledge.topics import TOPICS

bp = Blueprint("chat", __name__)

#: Everything the page loads comes from this server; reply text can never run as script.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
WEB_CHAT_COOKIE = "pufa_chat"
#: How long a browser keeps its id (seconds); each visit to the page renews it.
WEB_CHAT_COOKIE_AGE = 30 * 24 * 3600
_WEB_CHAT_ID = re.compile(r"[0-9a-f]{32}")


def web_chat_id(incoming: Request) -> str:
    """The web chat id the request's cookie carries, or "" if it has none (or a malformed one)."""
    value = incoming.cookies.get(WEB_CHAT_COOKIE, "")
    return value if _WEB_CHAT_ID.fullmatch(value) else ""


@bp.get("/")
def chat_page() -> Response:
    """The phone-shaped chat page, titled with the account's name, with the topic menu.

    Sets (or renews) the browser's web chat id cookie.
    """
    name = setting_text(get_settings(get_db()), "公众号名称")
    response = make_response(render_template("chat.html", account_name=name, topics=TOPICS))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.set_cookie(
        WEB_CHAT_COOKIE,
        web_chat_id(request) or secrets.token_hex(16),
        max_age=WEB_CHAT_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
    )
    return response
