"""The dialogue wired to the app: who the caller is, how much it may ask, the shared index.

Every door (webhook, API, web chat) comes through here. The resident is stored as a keyed
hash in the namespace of the channel the message came through, so no API request can
reach a WeChat resident's state; the caller's message rate is checked before any
matching work; the text is cut to :data:`MAX_TEXT_CHARS` before it is matched.
"""

from __future__ import annotations

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

#: Longest text matched; the API refuses longer, the webhook's are cut to it.
MAX_TEXT_CHARS = 2000


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
    index = current_index(db, str(config["DATABASE"]))
    dialogue = Dialogue(
        db,
        index,
        config["DIALOGUE_STATE_TTL"],
        may_log_unanswered=lambda: take_unanswered_slot(
            db, callers, config["UNANSWERED_PER_CALLER_PER_DAY"]
        ),
    )
    return dialogue.respond(replace(message, user=resident, text=message.text[:MAX_TEXT_CHARS]))
