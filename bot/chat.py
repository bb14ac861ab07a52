"""The WeChat-style web chat at ``/``: try Pufa in a browser, no official account needed."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template
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


@bp.get("/")
def chat_page() -> Response:
    """The phone-shaped chat page, titled with the account's name, with the topic menu."""
    name = setting_text(get_settings(get_db()), "公众号名称")
    response = make_response(render_template("chat.html", account_name=name, topics=TOPICS))
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
