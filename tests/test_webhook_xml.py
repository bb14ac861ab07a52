"""The webhook's XML: what the safe parser accepts and refuses, and replies that always parse."""

from __future__ import annotations

import pytest

from bot.wechat.message import InvalidMessage, check_message, dedup_key, to_incoming
from bot.wechat.xml import InvalidXml, parse_message_xml, render_text_reply, xml_safe
from tests.webhook_support import (
    HASH_SECRET,
    RESIDENT,
    event_dedup_key,
    message_dedup_key,
    parse_xml,
)


def test_parse_reads_top_level_fields_and_skips_nested_ones():
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><CreateTime>12</CreateTime>"
        "<ScanCodeInfo><ScanType>qrcode</ScanType></ScanCodeInfo>"
        "<Content>a &amp; b</Content><Content>second</Content><Empty/></xml>"
    )
    fields = parse_message_xml(body.encode())
    assert fields == {"ToUserName": "gh_1", "CreateTime": "12", "Content": "a & b", "Empty": ""}
    assert parse_message_xml(body) == fields


@pytest.mark.parametrize(
    "encoding", ["gbk", "gb18030", "shift_jis", "utf-7", "utf-16-le", "ISO-8859-1", "no-such"]
)
def test_parse_refuses_a_declared_encoding_other_than_utf8(encoding: str):
    body = f'<?xml version="1.0" encoding="{encoding}"?><xml><Content>x</Content></xml>'
    for given in (body, body.encode("ascii")):
        with pytest.raises(InvalidXml, match="only UTF-8 is accepted"):
            parse_message_xml(given)


@pytest.mark.parametrize(
    "body",
    ["<xml><Content>中文</Content></xml>".encode("gbk"), "<xml/>".encode("utf-16")],
)
def test_parse_refuses_bytes_that_are_not_utf8(body: bytes):
    with pytest.raises(InvalidXml, match="not UTF-8"):
        parse_message_xml(body)


def test_parse_accepts_utf8_declared_any_way_and_a_bom():
    for declaration in (
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<?xml version='1.0' encoding='utf8'?>",
        "",
    ):
        body = f"\ufeff{declaration}<xml><Content>中文</Content></xml>".encode()
        assert parse_message_xml(body) == {"Content": "中文"}


def test_parse_refuses_an_internal_entity_even_without_expansion():
    body = '<!DOCTYPE xml [<!ENTITY a "b">]><xml><Content>x</Content></xml>'
    with pytest.raises(InvalidXml, match="forbidden XML construct"):
        parse_message_xml(body)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain",
        "]]>",
        "]]>]]>",
        "]]]]>>",
        "a]]b]]>c]",
        "<![CDATA[nested]]>",
        "&amp; &lt; & < > \" '",
        "😀𠀀\u200b",
        "\x00\x01\x1f\x7f\x80\ud800\udfff\ufffe\uffff",
        "行一\r\n行二\n\t行三",
    ],
)
def test_any_text_renders_to_a_reply_that_parses_back(text: str):
    xml = render_text_reply("o_user]]>", "gh_account&", text, create_time=1700000000)
    fields = parse_xml(xml.encode("utf-8"))
    assert fields["ToUserName"] == "o_user]]>"
    assert fields["FromUserName"] == "gh_account&"
    assert fields["CreateTime"] == "1700000000"
    assert fields["MsgType"] == "text"
    assert fields["Content"] == xml_safe(text).replace("\r\n", "\n")


def test_xml_safe_strips_only_what_xml_forbids():
    assert xml_safe("a\x00b\x0bc\td\ne\rf\ud800g\ufffeh\U0001f600") == "abc\td\ne\rfgh\U0001f600"


def test_check_message_accepts_a_complete_text_message():
    fields = {"ToUserName": "gh", "FromUserName": "o", "CreateTime": "1", "MsgType": "text"}
    check_message(fields)
    with pytest.raises(InvalidMessage, match="missing MsgType"):
        check_message({**fields, "MsgType": ""})


def test_dedup_keys_name_the_resident_only_by_hash():
    base = {"ToUserName": "gh", "FromUserName": RESIDENT, "CreateTime": "17", "MsgType": "event"}
    assert dedup_key({**base, "MsgId": "99"}, HASH_SECRET) == message_dedup_key(99)
    click = {**base, "Event": "CLICK", "EventKey": "HUMAN"}
    assert dedup_key(click, HASH_SECRET) == event_dedup_key(17, "CLICK", "HUMAN")
    assert dedup_key({**base, "Event": "subscribe"}, HASH_SECRET) == event_dedup_key(
        17, "subscribe"
    )
    long_user = {**base, "Event": "CLICK", "FromUserName": "x" * 1000, "MsgId": "9" * 1000}
    assert len(dedup_key(long_user, HASH_SECRET)) < 120
    assert RESIDENT not in dedup_key({**base, "MsgId": "99"}, HASH_SECRET)
    assert RESIDENT not in dedup_key(click, HASH_SECRET)


def test_events_in_the_same_second_get_different_keys():
    base = {"ToUserName": "gh", "FromUserName": "o1", "CreateTime": "17", "MsgType": "event"}
    keys = {
        dedup_key({**base, "Event": "CLICK", "EventKey": "TOPIC_marriage"}, HASH_SECRET),
        dedup_key({**base, "Event": "CLICK", "EventKey": "HUMAN"}, HASH_SECRET),
        dedup_key({**base, "Event": "subscribe"}, HASH_SECRET),
        dedup_key({**base, "Event": "subscribe", "FromUserName": "o2"}, HASH_SECRET),
    }
    assert len(keys) == 4


def test_incoming_for_each_type():
    base = {"ToUserName": "gh", "FromUserName": "o1", "CreateTime": "17"}
    assert to_incoming({**base, "MsgType": "text", "Content": "你好"}).text == "你好"
    voice = to_incoming({**base, "MsgType": "voice", "Recognition": "离婚冷静期多久。"})
    assert voice.text == "离婚冷静期多久。"
    assert to_incoming({**base, "MsgType": "voice", "Recognition": " "}).media == "voice"
    click = to_incoming({**base, "MsgType": "event", "Event": "CLICK", "EventKey": "TOPIC_x"})
    assert (click.event, click.event_key) == ("CLICK", "TOPIC_x")
    assert to_incoming({**base, "MsgType": "Image"}).media == "image"
    assert to_incoming({**base, "MsgType": "miniprogrampage"}) is None
