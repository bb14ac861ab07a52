"""One reply per WeChat message, within the reply deadline, whichever worker gets it first.

The request that claims the message (``bot.wechat.dedup``) runs the dialogue in a worker
thread and waits for it until the deadline. If the database is locked, the dialogue is
slow or it fails, the resident gets :data:`HOLDING_TEXT` instead. A dialogue that is only
slow carries on after the deadline and stores its reply, which WeChat's retries then get;
one that fails releases its claim, so a retry processes the message afresh.

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

from bot.dialogue import Incoming
from bot.responder import respond
from bot.wechat.api import WeChatAPIError, api_for
from bot.wechat.dedup import claim_message, record_reply, release_claim, wait_for_reply
from knowledge.db import connect, get_db

log = logging.getLogger(__name__)

#: What a resident reads when Pufa cannot answer within the deadline.
HOLDING_TEXT = "系统正忙，请稍后再发一次您的问题。"
#: What a resident reads when the answer is late but will follow as a 客服 message.
LATER_TEXT = "问题已收到，正在查询，答复稍后发给您。"
#: Longest wait (seconds) for the write lock when claiming a message.
MAX_CLAIM_WAIT = 0.25


def reply_once(key: str, incoming: Incoming, deadline: float) -> str:
    """The reply text to message ``key`` ("" for "success"), ready by ``deadline``.

    ``deadline`` is a ``time.monotonic()`` value. The message is processed at most once
    across all workers; a retry gets the reply stored by the first attempt.
    """
    config = current_app.config
    claim_wait = min(MAX_CLAIM_WAIT, config["REPLY_DEADLINE"] / 4)
    record = connect(config["DATABASE"], claim_wait)
    try:
        claim = claim_message(record, key)
        if claim.status == "answered":
            log.info("wechat retry of %s answered from the record", key)
            return claim.reply or ""
        if claim.status == "in_progress":
            reply = wait_for_reply(record, key, deadline - time.monotonic())
            if reply is None:
                log.warning("wechat retry of %s: first attempt still running; holding reply", key)
                return HOLDING_TEXT
            log.info("wechat retry of %s answered once the first attempt finished", key)
            return reply
    except sqlite3.OperationalError as error:
        log.warning("wechat message %s: dedup record unavailable (%s); holding reply", key, error)
        return HOLDING_TEXT
    finally:
        record.close()
    return _answer_within_deadline(key, incoming, deadline)


@dataclass
class _Handoff:
    """The reply on its way from the worker thread to the request waiting for it.

    Whichever gives up first decides who delivers: the request (as the passive reply)
    if the reply is ready by the deadline, otherwise the worker (as a 客服 message).
    """

    outcome: Future[str] = field(default_factory=Future)
    lock: threading.Lock = field(default_factory=threading.Lock)
    abandoned: bool = False


def _answer_within_deadline(key: str, incoming: Incoming, deadline: float) -> str:
    """Run the dialogue for the claimed message in a worker thread; wait until ``deadline``.

    Past the deadline the worker carries on, stores its reply for WeChat's retries and,
    when the account's AppSecret is set, sends it to the resident as a 客服 message.
    """
    handoff = _Handoff()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    worker = threading.Thread(
        target=_process_message, args=(app, key, incoming, handoff), daemon=True
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


def _process_message(app: Flask, key: str, incoming: Incoming, handoff: _Handoff) -> None:
    """The worker: the dialogue's reply to ``incoming``, recorded under ``key``.

    It never raises: a failure is logged, the claim released (so a retry processes the
    message afresh) and handed to the waiting request through the handoff.
    """
    with app.app_context():
        try:
            reply = respond(incoming)
        except Exception as error:
            if isinstance(error, sqlite3.OperationalError):
                log.warning("wechat message %s: database busy in the dialogue: %s", key, error)
            else:
                log.exception("wechat message %s: the dialogue failed", key)
            _release(key)
            with handoff.lock:
                handoff.outcome.set_exception(error)
                late = handoff.abandoned
            if late:  # the resident was told an answer would follow
                _send_late(app, key, incoming.user, HOLDING_TEXT)
            return
        text = "" if reply is None else reply.text
        try:
            record_reply(get_db(), key, text)
        except sqlite3.Error as error:
            log.warning("wechat message %s: reply not recorded for retries: %s", key, error)
        with handoff.lock:
            handoff.outcome.set_result(text)
            late = handoff.abandoned
        if late and text:
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


def _release(key: str) -> None:
    try:
        release_claim(get_db(), key)
    except sqlite3.Error as error:
        log.warning("wechat message %s: claim not released: %s", key, error)
