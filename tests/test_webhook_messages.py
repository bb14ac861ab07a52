"""Residents' messages in plaintext, compatible and safe mode, and what the webhook replies."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlite_utils import Database

from bot import create_app, texts
from bot.paging import MAX_REPLY_BYTES, MORE_HINT
from knowledge.entries import Entry
from knowledge.settings import get_settings
from knowledge.store import create_entry, entries_by_topic
from tests.webhook_support import (
    ACCOUNT,
    MODES,
    RESIDENT,
    WeChatSender,
    event_message,
    message_xml,
    plain_reply,
    sender_for,
    text_message,
    warm_matcher,
)

UNIQUE_QUESTION = "普法测试：快递驿站把包裹弄丢了谁来赔"


@pytest.fixture
def publish(app: Flask, db: Database) -> Callable[..., None]:
    """Publish entries of our own (question → answer), so answers do not depend on the
    shipped content."""

    def publish_entries(answers: dict[str, str], topic: str = "contract") -> None:
        for question, answer in answers.items():
            create_entry(db, Entry(None, topic, question, answer, status="published"), "test")
        warm_matcher(app)

    return publish_entries


def media_message(msg_type: str, **extra: str) -> str:
    return message_xml(
        ToUserName=ACCOUNT,
        FromUserName=RESIDENT,
        CreateTime=int(time.time()),
        MsgType=msg_type,
        MsgId=int(time.time_ns() // 1000),
        **extra,
    )


def assert_text_reply(reply: dict[str, str] | str) -> dict[str, str]:
    """The reply is a passive text message from the account to the resident."""
    assert isinstance(reply, dict), reply
    assert set(reply) == {"ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"}
    assert reply["ToUserName"] == RESIDENT
    assert reply["FromUserName"] == ACCOUNT
    assert reply["MsgType"] == "text"
    assert abs(int(reply["CreateTime"]) - time.time()) < 60
    assert len(reply["Content"].encode("utf-8")) <= MAX_REPLY_BYTES
    return reply


@pytest.mark.parametrize("mode", MODES)
def test_subscribe_gets_the_welcome(sender: WeChatSender, db: Database, mode: str):
    reply = assert_text_reply(sender.exchange(mode, event_message("subscribe")))
    assert reply["Content"] == texts.welcome_text(get_settings(db))


@pytest.mark.parametrize("mode", MODES)
def test_a_question_gets_what_the_dialogue_answers(
    sender: WeChatSender, client: FlaskClient, mode: str
):
    reply = assert_text_reply(sender.exchange(mode, text_message("离婚冷静期多久")))
    api = client.post("/api/ask", json={"text": "离婚冷静期多久", "user": "api-check"}).get_json()
    assert api["kind"] in {"answer", "choices", "fallback"}
    assert reply["Content"] == api["reply"]


@pytest.mark.parametrize("mode", MODES)
def test_a_published_entry_is_answered(sender: WeChatSender, publish, mode: str):
    publish({UNIQUE_QUESTION: "快递丢失的，可以先找快递公司协商赔偿。"})
    reply = assert_text_reply(sender.exchange(mode, text_message(UNIQUE_QUESTION)))
    assert reply["Content"] == "快递丢失的，可以先找快递公司协商赔偿。"


@pytest.mark.parametrize("mode", MODES)
def test_a_menu_click_lists_the_topic(sender: WeChatSender, db: Database, publish, mode: str):
    publish({"普法测试：冒充客服说要退款怎么办": "挂断电话，拨打官方客服核实。"}, "antifraud")
    reply = assert_text_reply(sender.exchange(mode, event_message("CLICK", "TOPIC_antifraud")))
    questions = [entry.question for entry in entries_by_topic(db, "antifraud")[:9]]
    assert reply["Content"] == texts.choices_text(questions, "“防范诈骗”常见问题：")


@pytest.mark.parametrize("mode", MODES)
def test_media_gets_the_text_or_voice_please(sender: WeChatSender, mode: str):
    for msg_type in ("image", "location", "link", "video", "shortvideo", "file"):
        reply = assert_text_reply(sender.exchange(mode, media_message(msg_type)))
        assert reply["Content"] == texts.unsupported_media_text(), msg_type


def test_recognised_voice_is_answered_like_text(sender: WeChatSender, publish):
    publish({UNIQUE_QUESTION: "快递丢失的，可以先找快递公司协商赔偿。"})
    voice = media_message("voice", MediaId="media-1", Format="amr", Recognition=UNIQUE_QUESTION)
    reply = assert_text_reply(sender.exchange("plain", voice))
    assert reply["Content"] == "快递丢失的，可以先找快递公司协商赔偿。"


def test_voice_without_recognition_is_media(sender: WeChatSender):
    voice = media_message("voice", MediaId="media-2", Format="amr")
    reply = assert_text_reply(sender.exchange("plain", voice))
    assert reply["Content"] == texts.unsupported_media_text()


@pytest.mark.parametrize("mode", MODES)
def test_unsubscribe_gets_success(sender: WeChatSender, mode: str):
    assert sender.exchange(mode, event_message("unsubscribe")) == "success"


@pytest.mark.parametrize("mode", MODES)
def test_an_unknown_type_gets_success_and_leaves_no_record(
    sender: WeChatSender, db: Database, mode: str
):
    assert sender.exchange(mode, media_message("miniprogrampage", Title="x")) == "success"
    assert db["processed_messages"].count == 0


def test_compatible_mode_trusts_only_the_encrypted_message(sender: WeChatSender, db: Database):
    inner = event_message("subscribe")
    query, body = sender.safe_request(inner, compatible=True)
    forged_plaintext = body.replace(
        "<Event><![CDATA[subscribe]]></Event>", "<Event><![CDATA[unsubscribe]]></Event>"
    )
    assert forged_plaintext != body
    response = sender.client.post("/wechat", query_string=query, data=forged_plaintext)
    reply = assert_text_reply(sender.open_reply(response))
    assert reply["Content"] == texts.welcome_text(get_settings(db))


def test_safe_mode_also_checks_a_plain_signature_when_sent(sender: WeChatSender, caplog):
    query, body = sender.safe_request(event_message("subscribe"))
    assert sender.client.post("/wechat", query_string=query, data=body).status_code == 200
    query["signature"] = "0" * 40
    assert sender.client.post("/wechat", query_string=query, data=body).status_code == 403
    assert "signature does not match" in caplog.text


TRICKY_ANSWERS = {
    "普法测试：邻居家的鹦鹉天天学我说话侵权吗": "先说结论]]>再说理由",
    "普法测试：广场舞音响太吵能报警吗": "]]>]]>开头就是结束符]]",
    "普法测试：捡到的钱包里有银行卡怎么办": "A & B < C > D \"引号\" '单引号' &amp; <![CDATA[x]]>",
    "普法测试：网购的月饼过期了能退几倍": "表情😀🙏🏻和生僻字𠀀",
    "普法测试：物业停水停电催缴费合法吗": "控制字符\x00\x01\x08\x0b\x0c\x1b\ufffe\uffff在这里\t制表\n换行",
}


@pytest.mark.parametrize("mode", MODES)
def test_any_answer_text_makes_a_valid_reply(sender: WeChatSender, publish, mode: str):
    publish(TRICKY_ANSWERS)
    for question, answer in TRICKY_ANSWERS.items():
        reply = assert_text_reply(sender.exchange(mode, text_message(question)))
        legal = "".join(
            ch for ch in answer if ch in "\t\n" or (ord(ch) >= 0x20 and ch not in "\ufffe\uffff")
        )
        assert reply["Content"] == legal.strip(), question


def test_long_answers_stay_within_wechat_s_limit_and_page_on(sender: WeChatSender, publish):
    answer = "".join(f"第{n}点：遇到纠纷先协商，协商不成可以申请调解或者起诉。" for n in range(80))
    assert len(answer.encode("utf-8")) > 3 * MAX_REPLY_BYTES
    publish({UNIQUE_QUESTION: answer})
    first = assert_text_reply(sender.exchange("plain", text_message(UNIQUE_QUESTION)))
    assert first["Content"].endswith(MORE_HINT)
    second = assert_text_reply(sender.exchange("plain", text_message("更多")))
    assert second["Content"].startswith("第")
    assert second["Content"] != first["Content"]


def test_a_misconfigured_aes_key_is_logged(database_path: Path, caplog):
    app = create_app({"TESTING": True, "DATABASE": str(database_path), "WECHAT_AES_KEY": "short"})
    sender = sender_for(app, app.test_client())
    sender.aes_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    response = sender.post("safe", event_message("subscribe"))
    assert response.status_code == 500
    assert "WECHAT_AES_KEY must be the 43-character EncodingAESKey" in caplog.text


def test_plain_replies_are_xml(sender: WeChatSender):
    response = sender.post_plain(event_message("subscribe"))
    assert response.headers["Content-Type"].startswith("application/xml")
    assert plain_reply(response)["MsgType"] == "text"
