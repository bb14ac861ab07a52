"""The dialogue wired to the app: who the caller is, how much it may ask, the shared index.

Every door (webhook, API, web chat) comes through here. The resident is stored as a keyed
hash in the namespace of the channel the message came through, so no API request can
reach a WeChat resident's state; the caller's message rate is checked before any
matching work; the text is cut to :data:`MAX_TEXT_CHARS` before it is matched.

A message is handled in two steps. :func:`decide` only reads (the rate counters, the
dialogue state, the index) and runs the dialogue, in no transaction. :func:`record` then
writes everything the message changes in ONE short ``BEGIN IMMEDIATE`` transaction: the
rate counters (which decide: a caller that went over its limit meanwhile, in another
worker, is refused and the dialogue's reply dropped), the dialogue state, the turn (past
the caller's daily cap of unanswered questions, UNANSWERED_PER_CALLER_PER_DAY, a choices
or fallback turn is counted but its text not kept for staff) — or, for a WeChat text that
is exactly a staff member's binding code, the phone binding (``knowledge.staff_phones``)
instead of the dialogue — and, for the webhook, its own rows (the dedup record, the
plain-mode signature) through ``also``. Any failure
rolls the whole message back: nothing, or all of it, is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app
from sqlite_utils import Database

from bot.conversation import put_state
from bot.dialogue import Dialogue, Incoming, Reply
from bot.rate_limit import (
    RATE_LIMITED_TEXT,
    RateLimited,
    address_key,
    count_message,
    over_message_rate,
    take_unanswered_slot,
)
from knowledge.db import get_db, write
from knowledge.matching.live_index import current_index
from knowledge.residents import hash_secret, resident_key
from knowledge.staff_phones import bind_phone, binding_code
from knowledge.turns import record_turn

#: Longest text matched; the API refuses longer, the webhook's are cut to it.
MAX_TEXT_CHARS = 2000
#: The turn kinds that put a resident's question in the staff's unanswered queue.
_QUEUED_KINDS = ("choices", "fallback")


@dataclass
class Decision:
    """What the dialogue decided for one message, before anything is written."""

    #: The message as matched: ``user`` is the resident's key, the text cut.
    asked: Incoming
    reply: Reply | None
    #: Counter key → messages per minute, for the resident and the client address.
    limits: dict[str, int]
    #: The (resident, state) to save, if the dialogue changed it.
    state_change: tuple[str, dict[str, Any]] | None = None
    #: Set when the caller was over its limit already: the dialogue did not run.
    refused: RateLimited | None = None
    #: A staff member's phone to bind for previews in the write: (their OpenID, the code).
    phone_binding: tuple[str, str] | None = None


@dataclass
class Outcome:
    """What one message finally got: the reply (None: nothing to say), or the refusal."""

    reply: Reply | None
    refused: RateLimited | None = None

    @property
    def text(self) -> str:
        """The text a WeChat resident reads ("" for "success"); the refusal's polite text."""
        if self.refused is not None:
            return RATE_LIMITED_TEXT
        return "" if self.reply is None else self.reply.text


def decide(message: Incoming, address: str = "") -> Decision:
    """Run the dialogue for ``message`` from the app's knowledge base, reading only.

    ``message.user`` is the caller's own id on ``message.channel`` ("" for a caller with
    none: no dialogue state); ``address`` is the client address the API and the web chat
    are limited by as well. A caller already over RATE_LIMIT_PER_MINUTE gets no matching
    work (:attr:`Decision.refused`).
    """
    config = current_app.config
    db = get_db()
    secret = hash_secret(config)
    resident = resident_key(secret, message.channel, message.user) if message.user else ""
    per_address = [address_key(secret, address)] if address else []
    limits = {key: config["RATE_LIMIT_PER_MINUTE"] for key in (resident, *per_address) if key}
    limits.update({key: config["RATE_LIMIT_PER_ADDRESS_PER_MINUTE"] for key in per_address})
    asked = replace(message, user=resident, text=message.text[:MAX_TEXT_CHARS])
    refused = over_message_rate(db, limits)
    if refused is not None:
        return Decision(asked, None, limits, refused=refused)
    code = binding_code(message.text) if message.channel == "wx" and not message.event else None
    if code is not None and message.user:
        # A staff member binding their phone for campaign previews (knowledge.staff_phones).
        return Decision(asked, None, limits, phone_binding=(message.user, code))
    index = current_index(db, str(config["DATABASE"]))
    dialogue = Dialogue(db, index, config["DIALOGUE_STATE_TTL"], defer_state=True)
    reply = dialogue.respond(asked)
    return Decision(asked, reply, limits, dialogue.state_change)


def record(
    db: Database,
    decision: Decision,
    also: Callable[[Database, Outcome], None] | None = None,
) -> Outcome:
    """Write what ``decision`` changes in one transaction; what the message finally got.

    ``also(db, outcome)`` runs inside the same transaction (the webhook's dedup record);
    whatever it raises rolls the whole message back and propagates, as does
    ``sqlite3.OperationalError`` when the database stays locked past the busy timeout.
    """
    config = current_app.config
    now = time.time()
    with write(db):
        refused = count_message(db, decision.limits, now) or decision.refused
        outcome = Outcome(None, refused) if refused is not None else Outcome(decision.reply)
        if decision.phone_binding is not None and refused is None:
            # The code is used up here; it is no resident's question, so no turn is kept.
            confirmation = bind_phone(db, hash_secret(config), *decision.phone_binding)
            outcome = Outcome(Reply("help", confirmation))
        elif outcome.reply is not None:
            if decision.state_change is not None:
                put_state(db, *decision.state_change, config["DIALOGUE_STATE_TTL"])
            _record_turn(db, decision, outcome.reply, now)
        if also is not None:
            also(db, outcome)
    return outcome


def _record_turn(db: Database, decision: Decision, reply: Reply, now: float) -> None:
    """Record the turn ``decision.asked`` → ``reply`` inside the message's write."""
    asked = decision.asked
    details = reply.record
    kind = details.get("kind") or reply.kind
    keep_text = True
    if reply.kind in _QUEUED_KINDS and "candidates" in details:
        per_day = current_app.config["UNANSWERED_PER_CALLER_PER_DAY"]
        keep_text = take_unanswered_slot(db, list(decision.limits), per_day, now)
    record_turn(
        db,
        channel=asked.channel,
        kind=kind,
        resident=asked.user or None,
        # "0" to choices records the question that none of them fitted.
        text=(details.get("question", asked.text) or None) if keep_text else None,
        entry_id=details.get("entry_id", reply.entry_id),
        score=reply.score,
        candidates=details.get("candidates", ()),
        helpful=False if kind == "feedback" else None,
    )


def respond_within_limit(message: Incoming, address: str = "") -> Reply | None:
    """The reply to ``message`` (None: nothing to say), decided and recorded.

    The API's and the web chat's door. Raises :class:`~bot.rate_limit.RateLimited` when
    the caller is over RATE_LIMIT_PER_MINUTE (or its address over
    RATE_LIMIT_PER_ADDRESS_PER_MINUTE), before any matching work.
    """
    outcome = record(get_db(), decide(message, address))
    if outcome.refused is not None:
        raise outcome.refused
    return outcome.reply
