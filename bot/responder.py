"""The dialogue wired to the app: the request's database, the shared index, the configured TTL."""

from __future__ import annotations

from flask import current_app

from bot.dialogue import Dialogue, Incoming, Reply
from knowledge.db import get_db
from knowledge.matching.live_index import current_index


def respond(message: Incoming) -> Reply | None:
    """The reply to ``message`` from the app's knowledge base (None: nothing to say)."""
    db = get_db()
    index = current_index(db, str(current_app.config["DATABASE"]))
    return Dialogue(db, index, current_app.config["DIALOGUE_STATE_TTL"]).respond(message)
