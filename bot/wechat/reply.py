"""One reply per WeChat message, within the reply deadline, whichever worker gets it first.

The request that claims the message (``bot.wechat.dedup``) runs the dialogue in a worker
thread and waits for it until the deadline. If the database is locked, the dialogue is
slow or it fails, the resident gets :data:`HOLDING_TEXT` instead. A dialogue that is only
slow carries on after the deadline and stores its reply, which WeChat's retries then get;
one that fails releases its claim, so a retry processes the message afresh. A claim whose
worker died (killed between claim and reply) is taken over by the first retry that finds
it older than REPLY_DEADLINE + :data:`LEASE_MARGIN`.

When the account's AppID and AppSecret are set, a slow dialogue's resident reads
:data:`LATER_TEXT` instead, and the reply follows as a 客服 message (``bot.wechat.api``)
as soon as it is ready — WeChat does not retry a message that got a passive reply.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlite_utils import Database

from bot.dialogue import Incoming
from bot.responder import respond
from bot.wechat.api import WeChatAPIError, api_for
from bot.wechat.dedup import (
    Claim,
    claim_message,
    claim_owner,
    record_reply,
    release_claim,
    wait_for_reply,
)
from knowledge.db import connect, get_db

log = logging.getLogger(__name__)

#: What a resident reads when Pufa cannot answer within the deadline.
HOLDING_TEXT = "系统正忙，请稍后再发一次您的问题。"
#: What a resident reads when the answer is late but will follow as a 客服 message.
LATER_TEXT = "问题已收到，正在查询，答复稍后发给您。"
#: Longest wait (seconds) for the write lock when claiming a message.
MAX_CLAIM_WAIT = 0.25
#: Seconds past REPLY_DEADLINE after which an unanswered claim is presumed dead and a retry
#: takes it over. WeChat retries about 5 s apart, so the first retry after a crash answers.
LEASE_MARGIN = 2.0


def reply_once(key: str, incoming: Incoming, deadline: float) -> str:
    """The reply text to message ``key`` ("" for "success"), ready by ``deadline``.

    ``deadline`` is a ``time.monotonic()`` value. The message is processed at most once
    across all workers (or, after a worker died mid-claim, by the retry that took the
    claim over); a retry gets the reply stored by the first attempt.
    """
    config = current_app.config
    claim_wait = min(MAX_CLAIM_WAIT, config["REPLY_DEADLINE"] / 4)
    owner = claim_owner()
    lease = config["REPLY_DEADLINE"] + LEASE_MARGIN
    record = connect(config["DATABASE"], claim_wait)
    try:
        claim = claim_message(record, key, owner, lease)
        if claim.status == "in_progress":
            claim = _wait_for_owner(record, key, owner, lease, claim, deadline)
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
    except sqlite3.OperationalError as error:
        log.warning("wechat message %s: dedup record unavailable (%s); holding reply", key, error)
        return HOLDING_TEXT
    finally:
        record.close()
    return _answer_within_deadline(key, owner, incoming, deadline)


def _wait_for_owner(
    record: Database, key: str, owner: str, lease: float, claim: Claim, deadline: float
) -> Claim:
    """Wait for the owner of ``key`` to answer until ``deadline`` or its lease ends, whichever
    is first; once the lease has ended, claim again (taking over a dead owner's claim)."""
    lease_ends = claim.lease_ends or 0.0
    reply = wait_for_reply(record, key, min(deadline - time.monotonic(), lease_ends - time.time()))
    if reply is not None:
        return Claim("answered", reply)
    if time.time() >= lease_ends and time.monotonic() < deadline:
        return claim_message(record, key, owner, lease)
    return claim


@dataclass
class _Handoff:
    """The reply on its way from the worker thread to the request waiting for it.

    Whichever gives up first decides who delivers: the request (as the passive reply)
    if the reply is ready by the deadline, otherwise the worker (as a 客服 message).
    """

    outcome: Future[str] = field(default_factory=Future)
    lock: threading.Lock = field(default_factory=threading.Lock)
    abandoned: bool = False


def _answer_within_deadline(key: str, owner: str, incoming: Incoming, deadline: float) -> str:
    """Run the dialogue for the claimed message in a worker thread; wait until ``deadline``.

    Past the deadline the worker carries on, stores its reply for WeChat's retries and,
    when the account's AppSecret is set, sends it to the resident as a 客服 message.
    """
    handoff = _Handoff()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    worker = threading.Thread(
        target=_process_message, args=(app, key, owner, incoming, handoff), daemon=True
    )
    worker.start()
    try:
        return handoff.outcome.result(timeout=max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        pass
    except Exception as error:
        log.warning("wechat message %s: dialogue failed (%s); holding reply", key, error)
        return HOLDING_TEXT
    with handoff.lock:
        if handoff.outcome.done():  # finished just now
            return HOLDING_TEXT if handoff.outcome.exception() else handoff.outcome.result()
        handoff.abandoned = True
    if api_for(app, get_db()) is None:
        log.warning("wechat message %s: no reply by the deadline; holding reply", key)
        return HOLDING_TEXT
    log.warning("wechat message %s: no reply by the deadline; it follows as a 客服 message", key)
    return LATER_TEXT


def _process_message(
    app: Flask, key: str, owner: str, incoming: Incoming, handoff: _Handoff
) -> None:
    """The worker: the dialogue's reply to ``incoming``, recorded under ``key`` for ``owner``.

    It never raises: a failure is logged, the claim released (so a retry processes the
    message afresh) and handed to the waiting request through the handoff. A reply that
    comes after a retry took the claim over is dropped: the retry answers the resident.
    """
    with app.app_context():
        try:
            reply = respond(incoming)
        except Exception as error:
            if isinstance(error, sqlite3.OperationalError):
                log.warning("wechat message %s: database busy in the dialogue: %s", key, error)
            else:
                log.exception("wechat message %s: the dialogue failed", key)
            _release(key, owner)
            with handoff.lock:
                handoff.outcome.set_exception(error)
                late = handoff.abandoned
            if late:  # the resident was told an answer would follow
                _send_late(app, key, incoming.user, HOLDING_TEXT)
            return
        text = "" if reply is None else reply.text
        superseded = False
        try:
            superseded = not record_reply(get_db(), key, owner, text)
        except sqlite3.Error as error:
            log.warning("wechat message %s: reply not recorded for retries: %s", key, error)
        if superseded:
            log.warning("wechat message %s: a retry took the claim over; reply dropped", key)
        with handoff.lock:
            handoff.outcome.set_result(text)
            late = handoff.abandoned
        if late and text and not superseded:
            _send_late(app, key, incoming.user, text)


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
