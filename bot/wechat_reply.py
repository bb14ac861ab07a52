"""One reply per WeChat message, within the reply deadline, whichever worker gets it first.

The request that claims the message (``bot.message_dedup``) runs the dialogue in a worker
thread and waits for it until the deadline. If the database is locked, the dialogue is
slow or it fails, the resident gets :data:`HOLDING_TEXT` instead. A dialogue that is only
slow carries on after the deadline and stores its reply, which WeChat's retries then get;
one that fails releases its claim, so a retry processes the message afresh.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from concurrent.futures import Future

from flask import Flask, current_app

from bot.dialogue import Incoming
from bot.message_dedup import claim_message, record_reply, release_claim, wait_for_reply
from bot.responder import respond
from knowledge.db import connect, get_db

log = logging.getLogger(__name__)

#: What a resident reads when Pufa cannot answer within the deadline.
HOLDING_TEXT = "系统正忙，请稍后再发一次您的问题。"
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


def _answer_within_deadline(key: str, incoming: Incoming, deadline: float) -> str:
    """Run the dialogue for the claimed message in a worker thread; wait until ``deadline``.

    Past the deadline the worker carries on and stores its reply for WeChat's retries.
    """
    outcome: Future[str] = Future()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    worker = threading.Thread(
        target=_process_message, args=(app, key, incoming, outcome), daemon=True
    )
    worker.start()
    remaining = deadline - time.monotonic()
    if remaining > 0:
        try:
            return outcome.result(timeout=remaining)
        except TimeoutError:
            pass
        except Exception as error:
            log.warning("wechat message %s: dialogue failed (%s); holding reply", key, error)
            return HOLDING_TEXT
    log.warning("wechat message %s: no reply by the deadline; holding reply", key)
    return HOLDING_TEXT


def _process_message(app: Flask, key: str, incoming: Incoming, outcome: Future[str]) -> None:
    """The worker: the dialogue's reply to ``incoming``, recorded under ``key``.

    It never raises: a failure is logged, the claim released (so a retry processes the
    message afresh) and handed to the waiting request through ``outcome``.
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
            outcome.set_exception(error)
            return
        text = "" if reply is None else reply.text
        try:
            record_reply(get_db(), key, text)
        except sqlite3.Error as error:
            log.warning("wechat message %s: reply not recorded for retries: %s", key, error)
        outcome.set_result(text)


def _release(key: str) -> None:
    try:
        release_claim(get_db(), key)
    except sqlite3.Error as error:
        log.warning("wechat message %s: claim not released: %s", key, error)
