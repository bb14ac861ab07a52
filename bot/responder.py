"""The dialogue wired to the app: the request's database, the shared index, the configured TTL.

Every turn that gets a reply is recorded (``knowledge.turns``) with the resident as a keyed
hash: the dialogue itself only ever sees that hash, so its state is keyed by it too.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace

from flask import current_app

from bot.dialogue import Dialogue, Incoming, Reply
from knowledge.db import get_db
from knowledge.matching.live_index import current_index
from knowledge.residents import hash_secret, resident_key
from knowledge.turns import record_turn

log = logging.getLogger(__name__)


def respond(message: Incoming) -> Reply | None:
    """The reply to ``message`` from the app's knowledge base (None: nothing to say)."""
    db = get_db()
    config = current_app.config
    index = current_index(db, str(config["DATABASE"]))
    resident = resident_key(hash_secret(config), message.channel, message.user)
    dialogue = Dialogue(db, index, config["DIALOGUE_STATE_TTL"])
    reply = dialogue.respond(replace(message, user=resident))
    if reply is not None:
        record_reply(message, resident, reply)
    return reply


def record_reply(message: Incoming, resident: str, reply: Reply) -> None:
    """Record the turn ``message`` → ``reply``; a failure is logged, the reply still goes out."""
    record = reply.record
    kind = record.get("kind") or reply.kind
    try:
        record_turn(
            get_db(),
            channel=message.channel,
            kind=kind,
            resident=resident,
            text=message.text or None,
            entry_id=record.get("entry_id", reply.entry_id),
            score=reply.score,
            candidates=record.get("candidates", ()),
            helpful=False if kind == "feedback" else None,
        )
    except sqlite3.Error as error:
        log.warning("turn of %s not recorded: %s", resident[:7], error)
