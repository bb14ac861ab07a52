"""One reply per WeChat message, within the reply deadline, whichever worker gets it first.

The request looks the message up (a read, ``bot.wechat.dedup``): a retry of a message
already answered gets the stored reply, and one whose first attempt is still running
waits for it. A new message goes to this process's answer pool (a bounded pool of
threads, WECHAT_ANSWER_THREADS), which runs the dialogue (reads only) and writes
everything the message changes in ONE transaction (``bot.responder.record``), the dedup
record and the plain-mode signature included. The request waits for it until the
deadline. If the database is locked, the dialogue is slow or it fails, the resident gets
:data:`HOLDING_TEXT` instead.

Two workers racing on one message both run the dialogue; the first to commit is kept and
the second rolls back and sends the first one's reply. A worker killed mid-message has
written nothing, so a retry processes the message afresh. A dialogue that is only slow
leaves a claim when the deadline passes (so that retries wait for it rather than repeat
it) and carries on: its reply is stored for the retries. A claim whose worker died is
taken over by the first retry that finds it older than REPLY_DEADLINE +
:data:`LEASE_MARGIN`.

When the account's AppID and AppSecret are set, a slow dialogue's resident reads
:data:`LATER_TEXT` instead, and the reply follows as a 客服 message (``bot.wechat.api``)
as soon as it is ready — WeChat does not retry a message that got a passive reply.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlite_utils import Database

from bot.dialogue import Incoming
from bot.responder import Decision, Outcome, decide, record
from bot.wechat.api import WeChatAPIError, api_for
from bot.wechat.dedup import (
    AnsweredElsewhere,
    Claim,
    claim_message,
    claim_owner,
    look_up_message,
    record_answer,
    release_claim,
    wait_for_reply,
)
from bot.wechat.replay import PlainSignature, record_plain_signature
from bot.wechat.security import RejectedRequest
from knowledge.db import busy_timeout, get_db, write

log = logging.getLogger(__name__)

#: What a resident reads when Pufa cannot answer within the deadline.
HOLDING_TEXT = "系统正忙，请稍后再发一次您的问题。"
#: What a resident reads when the answer is late but will follow as a 客服 message.
LATER_TEXT = "问题已收到，正在查询，答复稍后发给您。"
#: Longest wait (seconds) for the write lock of a signature recorded alone (no message write).
MAX_SIGNATURE_WAIT = 0.25
#: Seconds before the deadline at which a message's write stops waiting for the lock, so
#: that the request learns of it and answers with the holding text in time.
LOCK_MARGIN = 0.1
#: Longest wait (seconds) for the write lock to leave a claim once the deadline has passed:
#: the resident's holding reply goes out right after, claim or not.
LATE_CLAIM_WAIT = 0.02
#: Seconds past REPLY_DEADLINE after which an unanswered claim is presumed dead and a retry
#: takes it over. WeChat retries about 5 s apart, so the first retry after a crash answers.
LEASE_MARGIN = 2.0

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def answer_pool(threads: int) -> ThreadPoolExecutor:
    """This process's pool of ``threads`` threads that answer messages (made on first use)."""
    with _pools_lock:
        pool = _pools.get(os.getpid())
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pufa-answer")
            _pools[os.getpid()] = pool
        return pool


def signature_wait(config: dict) -> float:
    """Seconds a signature recorded alone may wait for the write lock."""
    return min(MAX_SIGNATURE_WAIT, config["REPLY_DEADLINE"] / 4)


def reply_once(
    key: str, incoming: Incoming, deadline: float, signed: PlainSignature | None = None
) -> str:
    """The reply text to message ``key`` ("" for "success"), ready by ``deadline``.

    ``deadline`` is a ``time.monotonic()`` value; ``signed`` is a plain-mode signature not
    yet recorded, recorded with the message. The message is processed at most once across
    all workers; a retry gets the reply stored by the first attempt. Raises
    :class:`RejectedRequest` (403) when another worker recorded ``signed`` with a
    different body meanwhile.
    """
    config = current_app.config
    owner = claim_owner()
    lease = config["REPLY_DEADLINE"] + LEASE_MARGIN
    db = get_db()
    try:
        claim = look_up_message(db, key, lease)
        if claim.status == "in_progress":
            claim = _wait_for_owner(db, key, lease, claim, deadline)
        if claim.status in ("answered", "in_progress") and signed is not None:
            with busy_timeout(db, signature_wait(config)), write(db):
                record_plain_signature(db, signed)
    except sqlite3.OperationalError as error:
        log.warning("wechat message %s: dedup record unavailable (%s); holding reply", key, error)
        return HOLDING_TEXT
    if claim.status == "answered":
        log.info("wechat retry of %s answered from the record", key)
        return claim.reply or ""
    if claim.status == "in_progress":
        log.warning("wechat retry of %s: first attempt still running; holding reply", key)
        return HOLDING_TEXT
    if claim.status == "taken_over":
        log.warning(
            "wechat retry of %s: took over the claim of %s, unanswered after %.1fs",
            key,
            claim.previous_owner,
            claim.age,
        )
    return _answer_within_deadline(_Message(key, owner, incoming, signed, deadline))


def _wait_for_owner(db: Database, key: str, lease: float, claim: Claim, deadline: float) -> Claim:
    """Wait for the owner of ``key`` to answer until ``deadline`` or its lease ends, whichever
    is first; then where the message stands (taken over if the lease has ended)."""
    lease_ends = claim.lease_ends or 0.0
    reply = wait_for_reply(db, key, min(deadline - time.monotonic(), lease_ends - time.time()))
    if reply is not None:
        return Claim("answered", reply)
    if time.time() >= lease_ends and time.monotonic() < deadline:
        return look_up_message(db, key, lease)
    return claim


@dataclass(frozen=True)
class _Message:
    """A message being answered: its dedup key, this attempt's owner name and deadline."""

    key: str
    owner: str
    incoming: Incoming
    signed: PlainSignature | None
    deadline: float


@dataclass
class _Handoff:
    """The reply on its way from the answer thread to the request waiting for it.

    Whichever gives up first decides who delivers: the request (as the passive reply)
    if the reply is ready by the deadline, otherwise the answer thread (as a 客服 message).
    """

    outcome: Future[str] = field(default_factory=Future)
    lock: threading.Lock = field(default_factory=threading.Lock)
    abandoned: bool = False


def _answer_within_deadline(message: _Message) -> str:
    """Answer ``message`` in the answer pool; wait until its deadline.

    Past the deadline the answer thread carries on, stores its reply for WeChat's retries
    and, when the account's AppSecret is set, sends it to the resident as a 客服 message.
    """
    handoff = _Handoff()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    answer_pool(app.config["WECHAT_ANSWER_THREADS"]).submit(_process_message, app, message, handoff)
    key = message.key
    try:
        return handoff.outcome.result(timeout=max(0.0, message.deadline - time.monotonic()))
    except TimeoutError:
        pass
    except RejectedRequest:
        raise
    except Exception as error:
        log.warning("wechat message %s: dialogue failed (%s); holding reply", key, error)
        return HOLDING_TEXT
    with handoff.lock:
        if handoff.outcome.done():  # finished just now
            return HOLDING_TEXT if handoff.outcome.exception() else handoff.outcome.result()
        handoff.abandoned = True
    _leave_claim(message)
    if api_for(app, get_db()) is None:
        log.warning("wechat message %s: no reply by the deadline; holding reply", key)
        return HOLDING_TEXT
    log.warning("wechat message %s: no reply by the deadline; it follows as a 客服 message", key)
    return LATER_TEXT


def _leave_claim(message: _Message) -> None:
    """Claim a message whose dialogue outran the deadline, so its retries wait for it."""
    config = current_app.config
    db = get_db()
    try:
        with busy_timeout(db, LATE_CLAIM_WAIT):
            claim_message(db, message.key, message.owner, config["REPLY_DEADLINE"] + LEASE_MARGIN)
    except sqlite3.OperationalError as error:
        log.warning("wechat message %s: no claim left for its retries: %s", message.key, error)


def _process_message(app: Flask, message: _Message, handoff: _Handoff) -> None:
    """The answer thread: decide the reply to ``message`` and record it in one write.

    It never raises: a failure is logged, a claim left for it released (so a retry
    processes the message afresh) and handed to the waiting request through the handoff.
    A message another worker answered first gets that worker's reply, and sends nothing.
    """
    key = message.key
    with app.app_context():
        superseded = False
        try:
            decision = decide(message.incoming)
            text = _record(get_db(), message, decision)
        except AnsweredElsewhere as other:
            text, superseded = other.reply, True
            log.info("wechat message %s: another worker answered it first", key)
        except Exception as error:
            if isinstance(error, RejectedRequest):
                log.warning("wechat message %s refused in its write: %s", key, error.reason)
            elif isinstance(error, sqlite3.OperationalError):
                log.warning("wechat message %s: database busy: %s", key, error)
            else:
                log.exception("wechat message %s: the dialogue failed", key)
            with handoff.lock:
                handoff.outcome.set_exception(error)
                late = handoff.abandoned
            if late:  # the request left a claim; the resident may have been told to wait
                _release(key, message.owner)
                _send_late(app, key, message.incoming.user, HOLDING_TEXT)
            return
        with handoff.lock:
            handoff.outcome.set_result(text)
            late = handoff.abandoned
        if late and text and not superseded:
            _send_late(app, key, message.incoming.user, text)


def _record(db: Database, message: _Message, decision: Decision) -> str:
    """Write ``decision`` with the dedup record (and signature) of ``message``; the text."""

    def dedup_rows(db: Database, outcome: Outcome) -> None:
        record_answer(db, message.key, message.owner, outcome.text)
        if message.signed is not None:
            record_plain_signature(db, message.signed)

    # In time, the lock is awaited until just before the deadline; late, as long as usual.
    in_time = message.deadline - time.monotonic() - LOCK_MARGIN
    if in_time > 0:
        with busy_timeout(db, in_time):
            return record(db, decision, also=dedup_rows).text
    return record(db, decision, also=dedup_rows).text


def _send_late(app: Flask, key: str, user: str, text: str) -> None:
    """Send a reply that missed the deadline as a 客服 message, if the account allows."""
    api = api_for(app, get_db())
    if api is None:
        return
    try:
        api.send_text(user, text)
    except (WeChatAPIError, sqlite3.Error) as error:
        log.warning("wechat message %s: late reply not sent as a 客服 message: %s", key, error)
        return
    log.info("wechat message %s: late reply sent as a 客服 message", key)


def _release(key: str, owner: str) -> None:
    try:
        release_claim(get_db(), key, owner)
    except sqlite3.Error as error:
        log.warning("wechat message %s: claim not released: %s", key, error)
