"""WeChat's published signature and crypto vectors, through our helpers and the real endpoint.

The vectors carry timestamps from 2014, so the apps here run with
WECHAT_TIMESTAMP_WINDOW = 0 (the replay check off); one test shows the same request is
refused as a replay with the default window.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from flask import Flask
from wechatpy.crypto import PrpCrypto

from bot import create_app
from bot.wechat.security import (
    RejectedRequest,
    decrypt_echostr,
    message_crypto,
    signature_matches,
    signature_of,
)
from tests.webhook_support import aes_decrypt, aes_encrypt, message_xml, parse_xml, sha1_signature

S1_SIGNATURE = "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"

A1 = {
    "token": "pamtest",
    "aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "app_id": "wxb11529c136998cb6",
    "prefix": b"aaaabbbbccccdddd",
    "plaintext": "我是中文abcd123",
    "encrypt": "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==",
}

B = {
    "token": "QDG6eK",
    "aes_key": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "app_id": "wx5823bf96d3bd56c7",
    "timestamp": "1409659589",
    "nonce": "263014780",
    "msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
    "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
    "plaintext": "1616140317555161061",
}

T = {
    "token": "123456",
    "aes_key": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
    "app_id": "wx49f0ab532d5d035a",
}
T1 = {
    "timestamp": "1411525903",
    "nonce": "461056294",
    "msg_signature": "74d92dfeb87ba7c714f89d98870ae5eb62dff26d",
    "encrypt": "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=",
    "plaintext": "\n".join(
        [
            "<xml><ToUserName><![CDATA[wx49f0ab532d5d035a]]></ToUserName>",
            "<FromUserName><![CDATA[messense]]></FromUserName>",
            "<CreateTime>1411525903</CreateTime>",
            "<MsgType><![CDATA[text]]></MsgType>",
            "<Content><![CDATA[test]]></Content>",
            "<MsgId>4363689963896700987</MsgId>",
            "<AgentID>1</AgentID>",
            "</xml>",
        ]
    ),
}
T3 = {
    "prefix": b"1234567890123456",
    "nonce": "461056294",
    "timestamp": "1411525903",
    "plaintext": "\n".join(
        [
            "<xml>",
            "<MsgType><![CDATA[text]]></MsgType>",
            "<Content><![CDATA[test]]></Content>",
            "<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>",
            "<ToUserName><![CDATA[messense]]></ToUserName>",
            "<AgentID>1</AgentID>",
            "<CreateTime>1411525903</CreateTime>",
            "</xml>",
        ]
    ),
    "encrypt": "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3",
    "msg_signature": "407518b7649e86ef23978113f92d27afa9296533",
}


def _app(database_path: Path, token: str, aes_key: str = "", app_id: str = "", **extra) -> Flask:
    config = {
        "TESTING": True,
        "DATABASE": str(database_path),
        "WECHAT_TOKEN": token,
        "WECHAT_AES_KEY": aes_key,
        "WECHAT_APP_ID": app_id,
        "WECHAT_TIMESTAMP_WINDOW": 0,
    }
    return create_app({**config, **extra})


class _FixedPrefixCrypto(PrpCrypto):
    def __init__(self, key: bytes, prefix: bytes):
        super().__init__(key)
        self.prefix = prefix

    def get_random_string(self) -> bytes:
        return self.prefix


def test_s1_signature_matches_and_one_changed_digit_fails():
    assert signature_of("test", "1410685589", "test") == S1_SIGNATURE
    assert sha1_signature("test", "1410685589", "test") == S1_SIGNATURE
    assert signature_matches(S1_SIGNATURE, "test", "1410685589", "test")
    assert not signature_matches(S1_SIGNATURE[:-1] + "e", "test", "1410685589", "test")
    assert not signature_matches("", "test", "1410685589", "test")
    assert not signature_matches("签名", "test", "1410685589", "test")


def test_s1_plain_url_verification_through_the_endpoint(database_path: Path, caplog):
    client = _app(database_path, "test").test_client()
    query = {"signature": S1_SIGNATURE, "timestamp": "1410685589", "nonce": "test"}
    response = client.get("/wechat", query_string={**query, "echostr": "echo-42"})
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "echo-42"

    wrong = {**query, "signature": S1_SIGNATURE[:-1] + "e", "echostr": "echo-42"}
    response = client.get("/wechat", query_string=wrong)
    assert response.status_code == 403
    assert "signature does not match" in caplog.text


def test_a1_encrypt_with_a_fixed_prefix():
    key = base64.b64decode(A1["aes_key"] + "=")
    wechatpy_encrypt = _FixedPrefixCrypto(key, A1["prefix"]).encrypt(A1["plaintext"], A1["app_id"])
    assert wechatpy_encrypt.decode() == A1["encrypt"]
    ours = aes_encrypt(A1["aes_key"], A1["app_id"], A1["plaintext"], A1["prefix"])
    assert ours == A1["encrypt"]
    assert aes_decrypt(A1["aes_key"], A1["encrypt"]) == (
        A1["prefix"],
        A1["plaintext"],
        A1["app_id"],
    )


def test_b_safe_url_verification_returns_the_decrypted_echostr(database_path: Path, caplog):
    client = _app(database_path, B["token"], B["aes_key"], B["app_id"]).test_client()
    query = {key: B[key] for key in ("timestamp", "nonce", "msg_signature", "echostr")}
    response = client.get("/wechat", query_string=query)
    assert response.status_code == 200
    assert response.get_data(as_text=True) == B["plaintext"]

    tampered = {**query, "msg_signature": B["msg_signature"][:-1] + "4"}
    assert client.get("/wechat", query_string=tampered).status_code == 403
    assert "msg_signature does not match" in caplog.text


def test_b_is_refused_as_a_replay_with_the_default_window(database_path: Path, caplog):
    app = _app(database_path, B["token"], B["aes_key"], B["app_id"], WECHAT_TIMESTAMP_WINDOW=600)
    query = {key: B[key] for key in ("timestamp", "nonce", "msg_signature", "echostr")}
    response = app.test_client().get("/wechat", query_string=query)
    assert response.status_code == 403
    assert "from now (window 600s)" in caplog.text


def test_b_echostr_for_another_app_id_is_refused():
    crypto = message_crypto(B["token"], B["aes_key"], "wx0000000000000000")
    with pytest.raises(RejectedRequest) as refused:
        decrypt_echostr(crypto, B["echostr"])
    assert refused.value.status == 400
    assert "another AppID" in refused.value.reason


def test_t1_and_t3_through_our_helpers():
    assert aes_decrypt(T["aes_key"], T1["encrypt"])[1:] == (T1["plaintext"], T["app_id"])
    assert (
        sha1_signature(T["token"], T1["timestamp"], T1["nonce"], T1["encrypt"])
        == T1["msg_signature"]
    )
    assert aes_encrypt(T["aes_key"], T["app_id"], T3["plaintext"], T3["prefix"]) == T3["encrypt"]
    assert (
        sha1_signature(T["token"], T3["timestamp"], T3["nonce"], T3["encrypt"])
        == T3["msg_signature"]
    )


def test_t1_decrypts_through_the_endpoint_and_gets_an_encrypted_reply(database_path: Path):
    client = _app(database_path, T["token"], T["aes_key"], T["app_id"]).test_client()
    query = {
        "timestamp": T1["timestamp"],
        "nonce": T1["nonce"],
        "encrypt_type": "aes",
        "msg_signature": T1["msg_signature"],
    }
    body = message_xml(ToUserName=T["app_id"], Encrypt=T1["encrypt"])
    response = client.post("/wechat", query_string=query, data=body)
    assert response.status_code == 200, response.get_data(as_text=True)

    envelope = parse_xml(response.data)
    assert envelope["MsgSignature"] == sha1_signature(
        T["token"], envelope["TimeStamp"], envelope["Nonce"], envelope["Encrypt"]
    )
    _prefix, inner, app_id = aes_decrypt(T["aes_key"], envelope["Encrypt"])
    assert app_id == T["app_id"]
    reply = parse_xml(inner)
    assert reply["ToUserName"] == "messense"
    assert reply["FromUserName"] == T["app_id"]
    assert reply["MsgType"] == "text"
    assert reply["Content"].strip()

    # wechatpy reads our reply too.
    crypto = message_crypto(T["token"], T["aes_key"], T["app_id"])
    decrypted = crypto.decrypt_message(
        response.data, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
    )
    assert parse_xml(decrypted) == reply

    tampered = {**query, "msg_signature": "0" * 40}
    assert client.post("/wechat", query_string=tampered, data=body).status_code == 403
