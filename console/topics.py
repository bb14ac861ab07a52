"""Topics (``/admin/topics``): the shipped eight and those staff add; admins add one here."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from console.access import require_permission
from knowledge.db import get_db
from knowledge.topic_store import TopicError, add_topic, known_topics
from knowledge.topics import TOPICS

bp = Blueprint("topics", __name__, url_prefix="/topics")
log = logging.getLogger(__name__)


def _page(status: int = 200, error: str = "", key: str = "", name: str = "") -> tuple[str, int]:
    return (
        render_template(
            "console/topics.html",
            topics=known_topics(get_db()),
            menu=TOPICS,
            error=error,
            key=key,
            name=name,
        ),
        status,
    )


@bp.get("")
@require_permission("edit")
def listing() -> tuple[str, int]:
    """Every topic with its key; the form to add one for admins."""
    return _page()


@bp.post("")
@require_permission("manage")
def add() -> Response | tuple[str, int]:
    """Add the topic in the form (``key``, ``name``); the form again with the error if refused."""
    key, name = request.form.get("key", ""), request.form.get("name", "")
    try:
        add_topic(get_db(), key, name, current_user.name)
    except TopicError as error:
        log.info("console: topic %r refused: %s", key[:40], error)
        return _page(400, str(error), key, name)
    flash(f"已新增主题“{name.strip()}”：编辑条目时可以选它（居民的菜单仍是原来的八个主题）。")
    return redirect(url_for("admin.topics.listing"))
