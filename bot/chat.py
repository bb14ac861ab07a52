"""The WeChat-style web chat at ``/``: try Pufa in a browser, no official account needed."""

from __future__ import annotations

from flask import Blueprint, render_template

from knowledge.db import get_db
from knowledge.settings import get_settings, setting_text
from knowledge.topics import TOPICS

bp = Blueprint("chat", __name__)


@bp.get("/")
def chat_page() -> str:
    """The phone-shaped chat page, titled with the account's name, with the topic menu."""
    name = setting_text(get_settings(get_db()), "公众号名称")
    return render_template("chat.html", account_name=name, topics=TOPICS)
