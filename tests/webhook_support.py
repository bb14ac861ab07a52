"""Build WeChat's requests to /wechat and check its replies, independently of bot/ code.

Signatures use hashlib and AES uses ``cryptography`` directly (checked against WeChat's
published vectors in test_webhook_vectors.py), so the webhook is tested against the
scheme itself, not against its own helpers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import struct
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from knowledge.db import connect
from knowledge.matching.live_index import current_index

ACCOUNT = "gh_0123456789ab"
RESIDENT = "oRESIDENT_openid_0000000001"
#: The resident hash key of tests.conftest.TEST_CONFIG (its SECRET_KEY).
HASH_SECRET = "test-secret"
MODES = ("plain", "compatible", "safe")
#: The labeled short questions (tests/eval): varied, realistic residents' texts.
EVAL_QUESTIONS = Path(__file__).resolve().parent / "eval" / "questions.jsonl"
_msg_ids = count(7_000_000_000_000_000_001)


def sha1_signature(*parts: str) -> str:
    """WeChat's signature: sha1 hex of the sorted strings joined."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def _aes_key(encoding_aes_key: str) -> bytes:
    key = base64.b64decode(encoding_aes_key + "=")
    assert len(key) == 32
    return key


def aes_encrypt(encoding_aes_key: str, app_id: str, message: str, prefix: bytes) -> str:
    """WeChat's Encrypt: AES-256-CBC(prefix + length + message + AppID), PKCS#7 to 32 bytes."""
    key = _aes_key(encoding_aes_key)
    body = message.encode("utf-8")
    plain = prefix + struct.pack(">I", len(body)) + body + app_id.encode("utf-8")
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")


def aes_decrypt(encoding_aes_key: str, encrypted: str) -> tuple[bytes, str, str]:
    """The random prefix, the message and the AppID inside a WeChat Encrypt value."""
    key = _aes_key(encoding_aes_key)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    pad = plain[-1]
    assert 1 <= pad <= 32 and plain.endswith(bytes([pad]) * pad), "bad PKCS#7 padding"
    plain = plain[:-pad]
    (length,) = struct.unpack(">I", plain[16:20])
    return plain[:16], plain[20 : 20 + length].decode("utf-8"), plain[20 + length :].decode()


def hashed_resident(user: str = RESIDENT, secret: str = HASH_SECRET) -> str:
    """How a WeChat resident is stored: ``wx:`` and HMAC-SHA256 of the channel and OpenID."""
    digest = hmac.new(secret.encode(), f"wx\0{user}".encode(), hashlib.sha256).hexdigest()
    return f"wx:{digest[:32]}"


def message_dedup_key(msg_id: int | str, user: str = RESIDENT) -> str:
    """The dedup key of the message ``msg_id`` from ``user``."""
    return f"msg:{hashed_resident(user)}:{msg_id}"


def event_dedup_key(create_time: int, event: str, key: str = "", user: str = RESIDENT) -> str:
    """The dedup key of an event: resident, CreateTime and a digest of Event and EventKey."""
    digest = hashlib.sha256(f"{event}\0{key}".encode()).hexdigest()[:32]
    return f"event:{hashed_resident(user)}:{create_time}:{digest}"


def cdata(value: str) -> str:
    """A CDATA section (test inputs never contain ``]]>``)."""
    return f"<![CDATA[{value}]]>"


def message_xml(**fields: str | int) -> str:
    """An inbound message as WeChat writes it: numbers bare, text in CDATA."""
    inner = "".join(
        f"<{name}>{value if isinstance(value, int) else cdata(value)}</{name}>"
        for name, value in fields.items()
    )
    return f"<xml>{inner}</xml>"


def text_message(content: str, msg_id: int | None = None, user: str = RESIDENT) -> str:
    """A resident's text message with a fresh MsgId unless one is given."""
    return message_xml(
        ToUserName=ACCOUNT,
        FromUserName=user,
        CreateTime=int(time.time()),
        MsgType="text",
        Content=content,
        MsgId=next(_msg_ids) if msg_id is None else msg_id,
    )


def event_message(
    event: str, event_key: str = "", create_time: int | None = None, user: str = RESIDENT
) -> str:
    """An event push (subscribe, CLICK …) from the resident."""
    fields: dict[str, str | int] = {
        "ToUserName": ACCOUNT,
        "FromUserName": user,
        "CreateTime": int(time.time()) if create_time is None else create_time,
        "MsgType": "event",
        "Event": event,
    }
    if event_key:
        fields["EventKey"] = event_key
    return message_xml(**fields)


def parse_xml(text: str | bytes) -> dict[str, str]:
    """Top-level fields of a reply (stdlib parser: the reply is ours, not hostile)."""
    root = ET.fromstring(text)
    assert root.tag == "xml"
    return {child.tag: child.text or "" for child in root}


@dataclass
class WeChatSender:
    """Sends signed requests the way WeChat does, for one account configuration."""

    client: FlaskClient
    token: str
    aes_key: str
    app_id: str
    nonces: count = field(default_factory=lambda: count(100_000))

    def query(self, timestamp: int | str | None = None) -> dict[str, str]:
        """timestamp, nonce and the plain signature over them."""
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        nonce = str(next(self.nonces))
        return {
            "timestamp": timestamp,
            "nonce": nonce,
            "signature": sha1_signature(self.token, timestamp, nonce),
            "openid": RESIDENT,
        }

    def post_plain(self, xml: str, timestamp: int | str | None = None) -> TestResponse:
        """A plaintext-mode POST of ``xml``."""
        return self.client.post("/wechat", query_string=self.query(timestamp), data=xml)

    def safe_request(
        self, inner_xml: str, compatible: bool = False, timestamp: int | str | None = None
    ) -> tuple[dict[str, str], str]:
        """Query and body of a safe-mode POST (with the plaintext fields too if compatible)."""
        query = self.query(timestamp)
        encrypted = aes_encrypt(self.aes_key, self.app_id, inner_xml, os.urandom(16))
        query["encrypt_type"] = "aes"
        query["msg_signature"] = sha1_signature(
            self.token, query["timestamp"], query["nonce"], encrypted
        )
        if compatible:
            body = inner_xml.replace("</xml>", f"<Encrypt>{cdata(encrypted)}</Encrypt></xml>")
        else:
            body = message_xml(ToUserName=ACCOUNT, Encrypt=encrypted)
        return query, body

    def post_safe(self, inner_xml: str, compatible: bool = False) -> TestResponse:
        """A safe-mode (or compatible-mode) POST of ``inner_xml``."""
        query, body = self.safe_request(inner_xml, compatible)
        return self.client.post("/wechat", query_string=query, data=body)

    def post(self, mode: str, xml: str) -> TestResponse:
        """POST ``xml`` in ``mode``: "plain", "compatible" or "safe"."""
        assert mode in MODES
        if mode == "plain":
            return self.post_plain(xml)
        return self.post_safe(xml, compatible=mode == "compatible")

    def exchange(self, mode: str, xml: str) -> dict[str, str] | str:
        """Send ``xml`` in ``mode``; the reply's fields, or the string "success"."""
        response = self.post(mode, xml)
        assert response.status_code == 200, response.get_data(as_text=True)
        if response.data == b"success":
            return "success"
        return plain_reply(response) if mode == "plain" else self.open_reply(response)

    def open_reply(self, response: TestResponse) -> dict[str, str]:
        """The fields of an encrypted reply, after checking its MsgSignature and AppID."""
        assert response.status_code == 200, response.get_data(as_text=True)
        envelope = parse_xml(response.data)
        assert set(envelope) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
        assert envelope["MsgSignature"] == sha1_signature(
            self.token, envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]
        )
        assert abs(int(envelope["TimeStamp"]) - time.time()) < 60
        _prefix, inner, app_id = aes_decrypt(self.aes_key, envelope["Encrypt"])
        assert app_id == self.app_id
        return parse_xml(inner)


def plain_reply(response: TestResponse) -> dict[str, str]:
    """The fields of a plaintext reply."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/xml"
    return parse_xml(response.data)


def warm_matcher(app: Flask) -> None:
    """Build the matcher's index for ``app``'s database now, as a running server has it.

    A fresh database's first message would otherwise build it inside the reply deadline.
    """
    database = connect(app.config["DATABASE"])
    try:
        current_index(database, str(app.config["DATABASE"]))
    finally:
        database.close()


def sender_for(app: Flask, client: FlaskClient) -> WeChatSender:
    """A sender signed with ``app``'s WeChat configuration."""
    config = app.config
    return WeChatSender(
        client, config["WECHAT_TOKEN"], config["WECHAT_AES_KEY"], config["WECHAT_APP_ID"]
    )


def eval_questions(count: int) -> list[str]:
    """The first ``count`` texts of the labeled question set, in file order (distinct)."""
    texts: list[str] = []
    with EVAL_QUESTIONS.open(encoding="utf-8") as lines:
        for line in lines:
            text = json.loads(line)["text"]
            if text not in texts:
                texts.append(text)
            if len(texts) == count:
                break
    return texts
