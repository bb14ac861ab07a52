"""Who may call /wechat: signatures, the timestamp window, and safe-mode (AES) crypto.

Signatures are sha1 over the sorted strings (token, timestamp, nonce[, Encrypt]) and are
compared in constant time. Encryption is WeChat's AES-256-CBC scheme as implemented by
wechatpy's ``WeChatCrypto``; see
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
"""

from __future__ import annotations

import binascii
import hmac
import secrets
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException
from wechatpy.utils import WeChatSigner

# What a corrupt ciphertext makes wechatpy raise while unpadding and unpacking it
# (binascii.Error and UnicodeDecodeError are ValueErrors).
_DECRYPT_ERRORS = (ValueError, IndexError, struct.error, TypeError)


class RejectedRequest(Exception):
    """A webhook request refused with an HTTP ``status``; ``reason`` goes to the log."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def signature_of(*parts: str) -> str:
    """WeChat's signature of ``parts``: sha1 hex of the sorted strings joined."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def signature_matches(given: str, *parts: str) -> bool:
    """Whether ``given`` is the signature of ``parts``, compared in constant time."""
    return hmac.compare_digest(given.encode("utf-8"), signature_of(*parts).encode("utf-8"))


def verify_signature(name: str, given: str | None, *parts: str) -> None:
    """Refuse (403) unless ``given`` (the query parameter ``name``) signs ``parts``."""
    if not given:
        raise RejectedRequest(403, f"missing {name}")
    if not signature_matches(given, *parts):
        raise RejectedRequest(403, f"{name} does not match")


def parse_timestamp(raw: str | None) -> int:
    """The request's ``timestamp`` parameter as seconds; 403 if missing, 400 if not a number."""
    if not raw:
        raise RejectedRequest(403, "missing timestamp")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
        raise RejectedRequest(400, f"timestamp is not a number: {raw[:40]!r}")
    return int(raw)


def check_timestamp_window(timestamp: int, window: float, now: float | None = None) -> None:
    """Refuse (403, a replay) a timestamp further than ``window`` seconds from now.

    A window of 0 turns the check off (used with WeChat's published test vectors,
    which carry timestamps from 2014).
    """
    if window <= 0:
        return
    now = time.time() if now is None else now
    if abs(now - timestamp) > window:
        raise RejectedRequest(
            403, f"timestamp {timestamp} is {now - timestamp:.0f}s from now (window {window}s)"
        )


def message_crypto(token: str, encoding_aes_key: str, app_id: str) -> WeChatCrypto:
    """The crypto for safe mode; ``ValueError`` if the EncodingAESKey is not 43 base64 chars."""
    if len(encoding_aes_key) != 43:
        raise ValueError("WECHAT_AES_KEY must be the 43-character EncodingAESKey")
    try:
        binascii.a2b_base64(encoding_aes_key + "=", strict_mode=True)
    except binascii.Error as error:
        raise ValueError("WECHAT_AES_KEY is not base64") from error
    return WeChatCrypto(token, encoding_aes_key, app_id)


@contextmanager
def _refusing_undecryptable() -> Iterator[None]:
    try:
        yield
    except InvalidAppIdException as error:
        raise RejectedRequest(400, "decrypted message is for another AppID") from error
    except _DECRYPT_ERRORS as error:
        raise RejectedRequest(400, f"cannot decrypt: {error.__class__.__name__}") from error


def decrypt_echostr(crypto: WeChatCrypto, echostr: str) -> str:
    """The plaintext of a safe-mode URL-verification ``echostr`` (its signature already checked).

    400 if it does not decrypt or is for another AppID.
    """
    with _refusing_undecryptable():
        return PrpCrypto(crypto.key).decrypt(echostr, crypto.app_id)


def decrypt_envelope(
    crypto: WeChatCrypto,
    envelope: dict[str, Any],
    msg_signature: str | None,
    timestamp: str,
    nonce: str,
) -> str:
    """The inner XML of a safe-mode message, after checking ``msg_signature`` over its Encrypt.

    ``envelope`` is the already safely parsed outer XML; 403 for a bad signature, 400 for
    a missing or undecryptable Encrypt or a message for another AppID.
    """
    encrypted = envelope.get("Encrypt")
    if not encrypted:
        raise RejectedRequest(400, "safe-mode message without Encrypt")
    verify_signature("msg_signature", msg_signature, crypto.token, timestamp, nonce, encrypted)
    with _refusing_undecryptable():
        return crypto.decrypt_message(envelope, msg_signature, timestamp, nonce)


def encrypt_reply(crypto: WeChatCrypto, reply_xml: str) -> str:
    """The safe-mode envelope (Encrypt, MsgSignature, TimeStamp, Nonce) around ``reply_xml``.

    The nonce is our own (digits only): wechatpy writes it into the envelope unescaped.
    """
    nonce = str(secrets.randbelow(10**10))
    return crypto.encrypt_message(reply_xml, nonce, str(int(time.time())))
