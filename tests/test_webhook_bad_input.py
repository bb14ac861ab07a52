"""Every bad request to /wechat gets the right status and a log line saying why — never a 500."""

from __future__ import annotations

import io
import os
import time

import pytest
from flask.testing import FlaskClient
from sqlite_utils import Database

from bot import create_app
from tests.webhook_support import (
    ACCOUNT,
    RESIDENT,
    WeChatSender,
    aes_encrypt,
    event_message,
    message_xml,
    sender_for,
    sha1_signature,
    text_message,
)

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol3;</Content></xml>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&secret;</Content></xml>"""
BARE_DOCTYPE = """<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://example.com/x.dtd">
<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>hi</Content></xml>"""
COMPLETE = {
    "ToUserName": ACCOUNT,
    "FromUserName": RESIDENT,
    "CreateTime": "1700000000",
    "MsgType": "text",
    "Content": "你好",
}


def refused(response, status: int, caplog, reason: str, db: Database | None = None) -> None:
    """The response has ``status``, the log says ``reason``, and nothing was recorded."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert f"refused ({status}): " in caplog.text
    assert reason in caplog.text
    if db is not None:
        assert db["processed_messages"].count == 0


# --- GET: URL verification -------------------------------------------------------------


def _verification(sender: WeChatSender, **changes: str | None) -> dict[str, str]:
    query = {**sender.query(), "echostr": "7431234"}
    query.pop("openid")
    query.update(changes)
    return {key: value for key, value in query.items() if value is not None}


def test_plain_verification_echoes(sender: WeChatSender):
    response = sender.client.get("/wechat", query_string=_verification(sender))
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "7431234"


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        ({"signature": None}, 403, "missing signature"),
        ({"signature": "0" * 40}, 403, "signature does not match"),
        ({"signature": "签名不对"}, 403, "signature does not match"),
        ({"timestamp": None}, 403, "missing timestamp"),
        ({"timestamp": "yesterday"}, 400, "timestamp is not a number"),
        ({"timestamp": "-5"}, 400, "timestamp is not a number"),
        ({"echostr": None}, 400, "missing echostr"),
    ],
)
def test_bad_verification_is_refused(sender: WeChatSender, caplog, changes, status, reason):
    response = sender.client.get("/wechat", query_string=_verification(sender, **changes))
    refused(response, status, caplog, reason)


@pytest.mark.parametrize("offset", [-601, 601])
def test_verification_outside_the_window_is_a_replay(sender: WeChatSender, caplog, offset: int):
    query = {**sender.query(int(time.time()) + offset), "echostr": "1"}
    refused(sender.client.get("/wechat", query_string=query), 403, caplog, "window 600s")


def _safe_verification(sender: WeChatSender, echostr: str) -> dict[str, str]:
    query = sender.query()
    query["echostr"] = echostr
    query["msg_signature"] = sha1_signature(
        sender.token, query["timestamp"], query["nonce"], echostr
    )
    return query


def test_safe_verification_decrypts(sender: WeChatSender):
    echostr = aes_encrypt(sender.aes_key, sender.app_id, "8823", os.urandom(16))
    response = sender.client.get("/wechat", query_string=_safe_verification(sender, echostr))
    assert response.get_data(as_text=True) == "8823"


@pytest.mark.parametrize(
    ("echostr_app_id", "garbage", "reason"),
    [
        ("wx9999999999999999", None, "another AppID"),
        (None, "bm90IGEgY2lwaGVydGV4dA==", "cannot decrypt"),
        (None, "!!!", "cannot decrypt"),
    ],
)
def test_safe_verification_that_does_not_decrypt_is_400(
    sender: WeChatSender, caplog, echostr_app_id, garbage, reason
):
    if garbage is None:
        echostr = aes_encrypt(sender.aes_key, echostr_app_id, "8823", os.urandom(16))
    else:
        echostr = garbage
    response = sender.client.get("/wechat", query_string=_safe_verification(sender, echostr))
    refused(response, 400, caplog, reason)


def test_safe_verification_with_a_wrong_msg_signature_is_403(sender: WeChatSender, caplog):
    echostr = aes_encrypt(sender.aes_key, sender.app_id, "8823", os.urandom(16))
    query = {**_safe_verification(sender, echostr), "msg_signature": "f" * 40}
    refused(sender.client.get("/wechat", query_string=query), 403, caplog, "msg_signature")


# --- POST: signature and timestamp ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "status", "reason"),
    [
        ({"signature": None}, 403, "missing signature"),
        ({"signature": ""}, 403, "missing signature"),
        ({"signature": "0" * 40}, 403, "signature does not match"),
        ({"signature": "签名"}, 403, "signature does not match"),
        ({"timestamp": None}, 403, "missing timestamp"),
        ({"timestamp": "12.5"}, 400, "timestamp is not a number"),
        ({"timestamp": "１２３"}, 400, "timestamp is not a number"),
        ({"timestamp": "9" * 40}, 400, "timestamp is not a number"),
        ({"encrypt_type": "rsa"}, 400, "unknown encrypt_type"),
    ],
)
def test_bad_query_is_refused(sender: WeChatSender, db: Database, caplog, changes, status, reason):
    query = {**sender.query(), **changes}
    query = {key: value for key, value in query.items() if value is not None}
    response = sender.client.post("/wechat", query_string=query, data=text_message("你好"))
    refused(response, status, caplog, reason, db)


@pytest.mark.parametrize("offset", [-3600, -601, 601, 86400])
def test_a_stale_or_future_timestamp_is_a_replay(
    sender: WeChatSender, db: Database, caplog, offset: int
):
    response = sender.post_plain(text_message("你好"), timestamp=int(time.time()) + offset)
    refused(response, 403, caplog, "window 600s", db)


def test_a_timestamp_just_inside_the_window_is_accepted(sender: WeChatSender):
    response = sender.post_plain(event_message("subscribe"), timestamp=int(time.time()) - 590)
    assert response.status_code == 200


def test_the_window_can_be_widened(database_path, caplog):
    app = create_app(
        {"TESTING": True, "DATABASE": str(database_path), "WECHAT_TIMESTAMP_WINDOW": 7200}
    )
    sender = sender_for(app, app.test_client())
    ok = sender.post_plain(event_message("subscribe"), timestamp=int(time.time()) - 3600)
    assert ok.status_code == 200
    late = sender.post_plain(event_message("subscribe"), timestamp=int(time.time()) - 7300)
    refused(late, 403, caplog, "window 7200s")


# --- POST: body size ---------------------------------------------------------------------


def test_a_body_over_the_limit_by_content_length_is_413(sender: WeChatSender, db, caplog):
    body = text_message("长" * 30_000)
    assert len(body.encode()) > 65536
    refused(sender.post_plain(body), 413, caplog, "Content-Length", db)


def test_a_streamed_body_over_the_limit_is_413(sender: WeChatSender, db: Database, caplog):
    body = text_message("长" * 30_000).encode()
    response = sender.client.post(
        "/wechat",
        query_string=sender.query(),
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.request.content_length is None
    refused(response, 413, caplog, "body is over the 65536-byte limit", db)


def test_a_streamed_body_within_the_limit_is_read(sender: WeChatSender):
    response = sender.client.post(
        "/wechat",
        query_string=sender.query(),
        input_stream=io.BytesIO(event_message("subscribe").encode()),
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.request.content_length is None
    assert response.status_code == 200
    assert b"<Content>" in response.data


def test_the_limit_is_configurable(database_path, caplog):
    app = create_app({"TESTING": True, "DATABASE": str(database_path), "WECHAT_MAX_BODY": 100})
    sender = sender_for(app, app.test_client())
    refused(sender.post_plain(event_message("subscribe")), 413, caplog, "100-byte limit")


# --- POST: XML ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "empty body"),
        ("   \n", "empty body"),
        ("<xml><ToUserName>a</ToUserName>", "malformed XML"),
        ("not xml at all", "malformed XML"),
        ("<xml><a>\xff</a></xml>".encode("latin-1"), "malformed XML"),
        (BILLION_LAUGHS, "forbidden XML construct"),
        (EXTERNAL_ENTITY, "forbidden XML construct"),
        (BARE_DOCTYPE, "forbidden XML construct: DTDForbidden"),
        ("<root><MsgType>text</MsgType></root>", "root element is <root>"),
    ],
)
def test_bad_xml_is_400(sender: WeChatSender, db: Database, caplog, body, reason):
    refused(sender.post_plain(body), 400, caplog, reason, db)


@pytest.mark.parametrize("missing", ["ToUserName", "FromUserName", "CreateTime", "MsgType"])
@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_a_missing_required_field_is_400(
    sender: WeChatSender, db: Database, caplog, missing: str, mode: str
):
    fields = {name: value for name, value in COMPLETE.items() if name != missing}
    refused(sender.post(mode, message_xml(**fields)), 400, caplog, f"missing {missing}", db)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"FromUserName": "  "}, "missing FromUserName"),
        ({"CreateTime": "tomorrow"}, "CreateTime is not a number"),
        ({"MsgType": "event"}, "event without Event"),
    ],
)
def test_invalid_required_fields_are_400(sender: WeChatSender, db, caplog, changes, reason):
    refused(sender.post_plain(message_xml(**{**COMPLETE, **changes})), 400, caplog, reason, db)


# --- POST: safe mode ---------------------------------------------------------------------


def test_a_wrong_msg_signature_is_403(sender: WeChatSender, db: Database, caplog):
    query, body = sender.safe_request(text_message("你好"))
    query["msg_signature"] = "0" * 40
    response = sender.client.post("/wechat", query_string=query, data=body)
    refused(response, 403, caplog, "msg_signature does not match", db)


def test_a_missing_msg_signature_is_403(sender: WeChatSender, db: Database, caplog):
    query, body = sender.safe_request(text_message("你好"))
    del query["msg_signature"]
    response = sender.client.post("/wechat", query_string=query, data=body)
    refused(response, 403, caplog, "missing msg_signature", db)


def test_safe_mode_without_encrypt_is_400(sender: WeChatSender, db: Database, caplog):
    query, _body = sender.safe_request(text_message("你好"))
    response = sender.client.post("/wechat", query_string=query, data=text_message("你好"))
    refused(response, 400, caplog, "without Encrypt", db)


def _signed_safe_post(sender: WeChatSender, encrypted: str):
    query = sender.query()
    query["encrypt_type"] = "aes"
    query["msg_signature"] = sha1_signature(
        sender.token, query["timestamp"], query["nonce"], encrypted
    )
    body = message_xml(ToUserName=ACCOUNT, Encrypt=encrypted)
    return sender.client.post("/wechat", query_string=query, data=body)


@pytest.mark.parametrize(
    "encrypted", ["bm90IGEgY2lwaGVydGV4dA==", "AAAA", "@@@@", "A" * 64, "QUJD" * 8]
)
def test_a_signed_but_undecryptable_message_is_400(
    sender: WeChatSender, db: Database, caplog, encrypted: str
):
    refused(_signed_safe_post(sender, encrypted), 400, caplog, "cannot decrypt", db)


def test_a_message_for_another_app_id_is_400(sender: WeChatSender, db: Database, caplog):
    encrypted = aes_encrypt(sender.aes_key, "wx9999999999999999", text_message("你好"), b"0" * 16)
    refused(_signed_safe_post(sender, encrypted), 400, caplog, "another AppID", db)


@pytest.mark.parametrize(
    ("inner", "reason"),
    [
        (BILLION_LAUGHS, "decrypted message: forbidden XML construct"),
        (EXTERNAL_ENTITY, "decrypted message: forbidden XML construct"),
        ("<xml><Content>", "decrypted message: malformed XML"),
        ("", "decrypted message: empty body"),
    ],
)
def test_bad_decrypted_xml_is_400(sender: WeChatSender, db: Database, caplog, inner, reason):
    refused(sender.post_safe(inner), 400, caplog, reason, db)


def test_safe_mode_without_a_configured_key_is_400(database_path, caplog):
    app = create_app({"TESTING": True, "DATABASE": str(database_path), "WECHAT_AES_KEY": ""})
    sender = sender_for(app, app.test_client())
    sender.aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    refused(sender.post_safe(text_message("你好")), 400, caplog, "WECHAT_AES_KEY is not configured")


def test_other_methods_are_405(client: FlaskClient):
    assert client.put("/wechat").status_code == 405


# --- Encodings: WeChat sends UTF-8; anything else is a 400, never a 500 ----------------

FOREIGN_ENCODINGS = ["gbk", "gb18030", "shift_jis", "utf-7", "utf-16-le", "x-no-such-encoding"]


def declaring(encoding: str, xml: str) -> str:
    """``xml`` behind a declaration of ``encoding`` (its bytes stay ASCII/UTF-8)."""
    return f'<?xml version="1.0" encoding="{encoding}"?>{xml}'


@pytest.mark.parametrize("encoding", FOREIGN_ENCODINGS)
@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
def test_a_declared_foreign_encoding_is_400(
    sender: WeChatSender, db: Database, caplog, mode: str, encoding: str
):
    message = declaring(encoding, text_message("你好"))
    refused(sender.post(mode, message), 400, caplog, f"encoding '{encoding}'", db)


@pytest.mark.parametrize("encoding", FOREIGN_ENCODINGS)
@pytest.mark.parametrize("compatible", [False, True])
def test_a_foreign_encoding_on_the_outer_safe_envelope_is_400(
    sender: WeChatSender, db: Database, caplog, compatible: bool, encoding: str
):
    query, body = sender.safe_request(text_message("你好"), compatible=compatible)
    response = sender.client.post("/wechat", query_string=query, data=declaring(encoding, body))
    refused(response, 400, caplog, "only UTF-8 is accepted", db)


def test_a_body_in_gbk_bytes_is_400(sender: WeChatSender, db: Database, caplog):
    message = declaring("gbk", text_message("离婚冷静期多久")).encode("gbk")
    refused(sender.post_plain(message), 400, caplog, "malformed XML: not UTF-8", db)
