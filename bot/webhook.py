"""The /wechat webhook: URL verification (GET) and residents' messages (POST).

A message goes: body size cap → signature (constant time) and timestamp window → safe
XML parse (UTF-8 only) → decrypt (safe and compatible modes, ``encrypt_type=aes``) →
required fields → in plain mode, one body per signed query string → dedup claim →
dialogue → text reply (encrypted in safe mode), all within REPLY_DEADLINE.
If the database or the dialogue cannot make it in time, the resident gets a holding reply
and the dialogue finishes in the background, its reply kept for WeChat's retries.

Configuration: WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_AES_KEY, WECHAT_TIMESTAMP_WINDOW
(seconds; 0 turns the replay check off), WECHAT_MAX_BODY (bytes), REPLY_DEADLINE (seconds).
https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any, NoReturn

from flask import Blueprint, abort, current_app, request
from wechatpy.crypto import WeChatCrypto
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from bot.wechat.message import InvalidMessage, check_message, dedup_key, to_incoming
from bot.wechat.replay import check_plain_signature_reuse
from bot.wechat.reply import HOLDING_TEXT, MAX_CLAIM_WAIT, reply_once
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
from knowledge.db import connect, get_db
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
        if crypto is None and not _plain_body_checked(request.args, body, config):
            return _text_reply(fields, crypto, HOLDING_TEXT)
    except RejectedRequest as error:
        _refuse(error)
    if _handled_as_platform_event(fields):
        return _success()
    incoming = to_incoming(fields)
    if incoming is None:
        log.info("wechat message of unhandled type %r: success", fields["MsgType"][:40])
        return _success()
    deadline = started + config["REPLY_DEADLINE"] - RENDER_MARGIN
    text = reply_once(dedup_key(fields, hash_secret(config)), incoming, deadline)
    if not text:
        return _success()
    return _text_reply(fields, crypto, text)


def _text_reply(fields: dict[str, str], crypto: WeChatCrypto | None, text: str) -> Response:
    """The passive reply ``text`` to the message ``fields``, encrypted if it came so."""
    reply = render_text_reply(fields["FromUserName"], fields["ToUserName"], text)
    if crypto is not None:
        reply = encrypt_reply(crypto, reply)
    return Response(reply, mimetype="application/xml")


def _handled_as_platform_event(fields: dict[str, str]) -> bool:
    """Hand an event from the platform (e.g. MASSSENDJOBFINISH) to the hook registered for it.

    Hooks live in ``app.extensions["pufa.wechat_events"]`` (event name in lower case →
    function(db, fields)), registered by the packages that need them, so this module
    imports none of them. A hook that fails is logged with the event; WeChat gets "success".
    """
    if fields["MsgType"].strip().lower() != "event":
        return False
    event = fields.get("Event", "").strip().lower()
    hook = current_app.extensions.get("pufa.wechat_events", {}).get(event)
    if hook is None:
        return False
    try:
        hook(get_db(), fields)
    except Exception:
        # Not the fields: they carry FromUserName, a resident's (or the account's) id.
        log.exception(
            "wechat %s event not recorded (MsgID %r)", event, fields.get("MsgID", "")[:40]
        )
    return True


def _plain_body_checked(args: MultiDict[str, str], body: bytes, config: dict[str, Any]) -> bool:
    """Whether the one-body-per-signature record was checked (False: database busy).

    Raises :class:`RejectedRequest` (403) for a signed query string reused for another body.
    """
    record = None
    try:
        record = connect(config["DATABASE"], min(MAX_CLAIM_WAIT, config["REPLY_DEADLINE"] / 4))
        check_plain_signature_reuse(
            record,
            args.get("timestamp", ""),
            args.get("nonce", ""),
            args.get("signature", ""),
            body,
            config["WECHAT_TIMESTAMP_WINDOW"],
        )
    except sqlite3.OperationalError as error:
        log.warning("wechat plain-mode signature record unavailable (%s); holding reply", error)
        return False
    finally:
        if record is not None:
            record.close()
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
