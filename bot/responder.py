"""The dialogue wired to the app: who the caller is, how much it may ask, the shared index.

Every door (webhook, API, web chat) comes through here. The resident is stored as a keyed
hash in the namespace of the channel the message came through, so no API request can
reach a WeChat resident's state; the caller's message rate is checked before any
matching work; the text is cut to :data:`MAX_TEXT_CHARS` before it is matched. Every turn
that gets a reply is recorded (``knowledge.turns``) under the same hash, in one short
write; past the caller's daily cap of unanswered questions (UNANSWERED_PER_CALLER_PER_DAY)
a choices or fallback turn is still counted but its text is not kept for staff.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace

from flask import current_app

from bot.dialogue import Dialogue, Incoming, Reply
from bot.rate_limit import (
    RATE_LIMITED_TEXT,
    RateLimited,
    address_key,
    check_message_rate,
    take_unanswered_slot,
)
from knowledge.db import get_db
from knowledge.matching.live_index import current_index
from knowledge.residents import hash_secret, resident_key
from knowledge.staff_phones import bind_phone_from_message
from knowledge.turns import record_turn

log = logging.getLogger(__name__)

#: Longest text matched; the API refuses longer, the webhook's are cut to it.
MAX_TEXT_CHARS = 2000
#: The turn kinds that put a resident's question in the staff's unanswered queue.
_QUEUED_KINDS = ("choices", "fallback")


def respond(message: Incoming) -> Reply | None:
    """The reply to ``message`` (None: nothing to say); over the rate limit, a short polite text.

    This is the webhook's door: a WeChat resident over the limit reads
    :data:`~bot.rate_limit.RATE_LIMITED_TEXT` as an ordinary reply.
    """
    try:
        return respond_within_limit(message)
    except RateLimited:
        return Reply("help", RATE_LIMITED_TEXT)


def respond_within_limit(message: Incoming, address: str = "") -> Reply | None:
    """The reply to ``message`` from the app's knowledge base (None: nothing to say).

    ``message.user`` is the caller's own id on ``message.channel`` ("" for a caller with
    none: no dialogue state); ``address`` is the client address the API and the web chat
    are limited by as well. Raises :class:`~bot.rate_limit.RateLimited` when the caller is
    over RATE_LIMIT_PER_MINUTE, before any matching work.
    """
    config = current_app.config
    db = get_db()
    secret = hash_secret(config)
    resident = resident_key(secret, message.channel, message.user) if message.user else ""
    per_address = [address_key(secret, address)] if address else []
    callers = [key for key in (resident, *per_address) if key]
    limits = {key: config["RATE_LIMIT_PER_MINUTE"] for key in callers}
    limits.update({key: config["RATE_LIMIT_PER_ADDRESS_PER_MINUTE"] for key in per_address})
    check_message_rate(db, limits)
    if message.channel == "wx" and message.text and not message.event:
        # A staff member binding their phone for campaign previews (knowledge.staff_phones).
        confirmation = bind_phone_from_message(db, secret, message.user, message.text)
        if confirmation is not None:
            return Reply("help", confirmation)
    index = current_index(db, str(config["DATABASE"]))
    dialogue = Dialogue(db, index, config["DIALOGUE_STATE_TTL"])
    asked = replace(message, user=resident, text=message.text[:MAX_TEXT_CHARS])
    reply = dialogue.respond(asked)
    if reply is not None:
        queued = reply.kind in _QUEUED_KINDS and "candidates" in reply.record
        keep_text = not queued or take_unanswered_slot(
            db, callers, config["UNANSWERED_PER_CALLER_PER_DAY"]
        )
        record_reply(asked, reply, keep_text)
    return reply


def record_reply(message: Incoming, reply: Reply, keep_text: bool = True) -> None:
    """Record the turn ``message`` → ``reply`` (``message.user`` already the resident's key).

    Without ``keep_text`` the turn is counted but its text is not kept. A failure is logged
    and the reply still goes out.
    """
    record = reply.record
    kind = record.get("kind") or reply.kind
    try:
        record_turn(
            get_db(),
            channel=message.channel,
            kind=kind,
            resident=message.user or None,
            text=(message.text or None) if keep_text else None,
            entry_id=record.get("entry_id", reply.entry_id),
            score=reply.score,
            candidates=record.get("candidates", ()),
            helpful=False if kind == "feedback" else None,
        )
    except sqlite3.Error as error:
        log.warning("turn of %s not recorded: %s", (message.user or "anonymous")[:7], error)
