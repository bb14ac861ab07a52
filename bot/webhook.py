"""The /wechat webhook: URL verification (GET) and residents' messages (POST).

A message goes: body size cap → signature (constant time) and timestamp window → safe
XML parse (UTF-8 only) → decrypt (safe and compatible modes, ``encrypt_type=aes``) →
required fields → in plain mode, one body per signed query string → dedup look-up →
dialogue → one write of everything the message changes → text reply (encrypted in safe
mode), all within REPLY_DEADLINE (``bot.wechat.reply``). If the database or the dialogue
cannot make it in time, the resident gets a holding reply and the dialogue finishes in
the background, its reply kept for WeChat's retries.

Configuration: WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_AES_KEY, WECHAT_TIMESTAMP_WINDOW
(seconds; 0 turns the replay check off), WECHAT_MAX_BODY (bytes), REPLY_DEADLINE (seconds).
https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any, NoReturn

from flask import Blueprint, abort, current_app, request
from sqlite_utils import Database
from wechatpy.crypto import WeChatCrypto
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from bot.wechat.message import InvalidMessage, check_message, dedup_key, to_incoming
from bot.wechat.replay import (
    PlainSignature,
    plain_signature,
    plain_signature_seen,
    record_plain_signature,
)
from bot.wechat.reply import HOLDING_TEXT, reply_once, signature_wait
from bot.wechat.security import (
    RejectedRequest,
    check_timestamp_window,
    decrypt_echostr,
    decrypt_envelope,
    encrypt_reply,
    message_crypto,
    parse_timestamp,
    verify_signature,
)
from bot.wechat.xml import InvalidXml, parse_message_xml, render_text_reply
from knowledge.db import busy_timeout, get_db, write
from knowledge.residents import hash_secret

bp = Blueprint("webhook", __name__)
log = logging.getLogger(__name__)

#: Seconds of the deadline kept for rendering and encrypting the reply.
RENDER_MARGIN = 0.05


def _refuse(error: RejectedRequest) -> NoReturn:
    log.warning("wechat %s refused (%d): %s", request.method, error.status, error.reason)
    abort(error.status)


def _crypto(config: dict[str, Any]) -> WeChatCrypto:
    try:
        return message_crypto(
            config["WECHAT_TOKEN"], config["WECHAT_AES_KEY"], config["WECHAT_APP_ID"]
        )
    except ValueError as error:
        log.error("wechat safe mode is misconfigured: %s", error)
        abort(500)


@bp.get("/wechat")
def verify_url() -> Response:
    """Answer WeChat's URL verification with the echostr (decrypted in safe mode).

    403 for a missing or wrong signature or a timestamp outside the window, 400 for a
    non-numeric timestamp, a missing echostr or one that does not decrypt.
    """
    config = current_app.config
    args = request.args
    timestamp = args.get("timestamp", "")
    nonce = args.get("nonce", "")
    echostr = args.get("echostr", "")
    safe = bool(args.get("msg_signature")) and bool(config["WECHAT_AES_KEY"])
    try:
        seconds = parse_timestamp(timestamp)
        if not echostr:
            raise RejectedRequest(400, "missing echostr")
        if safe:
            token_parts = (config["WECHAT_TOKEN"], timestamp, nonce, echostr)
            verify_signature("msg_signature", args.get("msg_signature"), *token_parts)
        else:
            token_parts = (config["WECHAT_TOKEN"], timestamp, nonce)
            verify_signature("signature", args.get("signature"), *token_parts)
        check_timestamp_window(seconds, config["WECHAT_TIMESTAMP_WINDOW"])
        if safe:
            echostr = decrypt_echostr(_crypto(config), echostr)
    except RejectedRequest as error:
        _refuse(error)
    log.info("wechat URL verification answered (%s mode)", "safe" if safe else "plain")
    return Response(echostr, mimetype="text/plain")


@bp.post("/wechat")
def receive_message() -> Response:
    """Reply to a resident's message or event, in the mode it came in.

    413 for a body over WECHAT_MAX_BODY; 403 for a bad signature, a replayed timestamp or,
    in plain mode, a signed query string already used for another body; 400 for malformed
    or forbidden XML, a body that is not UTF-8, missing fields, an undecryptable message or
    one for another AppID. Types Pufa does not handle, and messages needing no reply, get
    "success".
    """
    started = time.monotonic()
    config = current_app.config
    try:
        body = _read_body(config["WECHAT_MAX_BODY"])
        fields, crypto = _authentic_message(request.args, body, config)
        signed = None if crypto is not None else _new_plain_signature(request.args, body, config)
    except RejectedRequest as error:
        _refuse(error)
    except sqlite3.OperationalError as error:
        log.warning("wechat plain-mode signature record unavailable (%s); holding reply", error)
        return _text_reply(fields, crypto, HOLDING_TEXT)
    hook = _platform_event_hook(fields)
    incoming = None if hook is not None else to_incoming(fields)
    if incoming is None:
        # No dialogue, so no message write to carry the signature: a write of its own.
        if signed is not None and not _recorded_alone(signed, config):
            return _text_reply(fields, crypto, HOLDING_TEXT)
        if hook is not None:
            _run_platform_hook(hook, fields)
        else:
            log.info("wechat message of unhandled type %r: success", fields["MsgType"][:40])
        return _success()
    deadline = started + config["REPLY_DEADLINE"] - RENDER_MARGIN
    try:
        text = reply_once(dedup_key(fields, hash_secret(config)), incoming, deadline, signed)
    except RejectedRequest as error:
        _refuse(error)
    if not text:
        return _success()
    return _text_reply(fields, crypto, text)


def _text_reply(fields: dict[str, str], crypto: WeChatCrypto | None, text: str) -> Response:
    """The passive reply ``text`` to the message ``fields``, encrypted if it came so."""
    reply = render_text_reply(fields["FromUserName"], fields["ToUserName"], text)
    if crypto is not None:
        reply = encrypt_reply(crypto, reply)
    return Response(reply, mimetype="application/xml")


def _platform_event_hook(fields: dict[str, str]) -> Callable[[Database, dict], None] | None:
    """The hook registered for an event from the platform (e.g. MASSSENDJOBFINISH), if any.

    Hooks live in ``app.extensions["pufa.wechat_events"]`` (event name in lower case →
    function(db, fields)), registered by the packages that need them, so this module
    imports none of them.
    """
    if fields["MsgType"].strip().lower() != "event":
        return None
    event = fields.get("Event", "").strip().lower()
    return current_app.extensions.get("pufa.wechat_events", {}).get(event)


def _run_platform_hook(hook: Callable[[Database, dict], None], fields: dict[str, str]) -> None:
    """Run an event's hook; one that fails is logged with the event (WeChat gets "success")."""
    try:
        hook(get_db(), fields)
    except Exception:
        # Not the fields: they carry FromUserName, a resident's (or the account's) id.
        log.exception(
            "wechat %s event not recorded (MsgID %r)",
            fields.get("Event", "")[:40],
            fields.get("MsgID", "")[:40],
        )


def _new_plain_signature(
    args: MultiDict[str, str], body: bytes, config: dict[str, Any]
) -> PlainSignature | None:
    """The plain-mode signature of ``body`` if it still has to be recorded (None: seen).

    Raises :class:`RejectedRequest` (403) for a signed query string used for another body.
    """
    signed = plain_signature(
        args.get("timestamp", ""),
        args.get("nonce", ""),
        args.get("signature", ""),
        body,
        config["WECHAT_TIMESTAMP_WINDOW"],
    )
    return None if plain_signature_seen(get_db(), signed) else signed


def _recorded_alone(signed: PlainSignature, config: dict[str, Any]) -> bool:
    """Record ``signed`` in a write of its own; False when the database is busy.

    Raises :class:`RejectedRequest` (403) when another worker recorded it with another body.
    """
    db = get_db()
    try:
        with busy_timeout(db, signature_wait(config)), write(db):
            record_plain_signature(db, signed)
    except sqlite3.OperationalError as error:
        log.warning("wechat plain-mode signature record unavailable (%s); holding reply", error)
        return False
    except RejectedRequest as error:
        _refuse(error)
    return True


def _success() -> Response:
    return Response("success", mimetype="text/plain")


def _read_body(limit: int) -> bytes:
    length = request.content_length
    if length is not None and length > limit:
        raise RejectedRequest(413, f"Content-Length {length} is over the {limit}-byte limit")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise RejectedRequest(413, f"body is over the {limit}-byte limit")
    return body


def _authentic_message(
    args: MultiDict[str, str], body: bytes, config: dict[str, Any]
) -> tuple[dict[str, str], WeChatCrypto | None]:
    """The checked message fields, and the crypto to answer with (None in plaintext mode)."""
    timestamp = args.get("timestamp", "")
    nonce = args.get("nonce", "")
    seconds = parse_timestamp(timestamp)
    encrypt_type = args.get("encrypt_type", "raw").lower()
    if encrypt_type not in ("raw", "aes"):
        raise RejectedRequest(400, f"unknown encrypt_type {encrypt_type[:20]!r}")
    safe = encrypt_type == "aes"
    signature = args.get("signature")
    # Safe and compatible modes are signed by msg_signature; a signature sent too must hold.
    if not safe or signature is not None:
        verify_signature("signature", signature, config["WECHAT_TOKEN"], timestamp, nonce)
    check_timestamp_window(seconds, config["WECHAT_TIMESTAMP_WINDOW"])
    try:
        envelope = parse_message_xml(body)
    except InvalidXml as error:
        raise RejectedRequest(400, str(error)) from error
    crypto = None
    fields = envelope
    if safe:
        if not config["WECHAT_AES_KEY"]:
            raise RejectedRequest(400, "encrypt_type=aes but WECHAT_AES_KEY is not configured")
        crypto = _crypto(config)
        inner = decrypt_envelope(crypto, envelope, args.get("msg_signature"), timestamp, nonce)
        try:
            fields = parse_message_xml(inner)
        except InvalidXml as error:
            raise RejectedRequest(400, f"decrypted message: {error}") from error
    try:
        check_message(fields)
    except InvalidMessage as error:
        raise RejectedRequest(400, str(error)) from error
    return fields, crypto
