"""The dialogue: answers, choices, fallback, menus, paging, 原文 and expiring state."""

from __future__ import annotations

import time

import pytest
from sqlite_utils import Database

from bot.dialogue import Dialogue, Incoming
from bot.paging import MAX_REPLY_BYTES, MORE_HINT
from knowledge.entries import Entry
from knowledge.matching.live_index import current_index
from knowledge.matching.matcher import Thresholds
from knowledge.settings import set_setting
from knowledge.store import create_entry, set_status

COOLING_OFF = Entry(
    id=None,
    topic="marriage",
    question="离婚冷静期是多长时间？",
    alternates=["协议离婚要等多久", "去民政局离婚还要冷静一个月吗", "离婚冷静期怎么算"],
    answer="协议离婚有30天冷静期。有事请拨打{办公室电话}。",
    law_refs=["民法典第1077条"],
    status="published",
)


def _entry(question: str, topic: str = "antifraud", answer: str = "先报警110。", **extra) -> Entry:
    return Entry(
        id=None, topic=topic, question=question, answer=answer, status="published", **extra
    )


@pytest.fixture
def dialogue(bare_db: Database, bare_database_path) -> Dialogue:
    """A dialogue over the test database, with the cooling-off entry published."""
    create_entry(bare_db, COOLING_OFF, "测试")
    return Dialogue(bare_db, current_index(bare_db, str(bare_database_path)), state_ttl=600)


def test_subscribe_welcomes_with_topics(dialogue: Dialogue) -> None:
    reply = dialogue.respond(Incoming(user="u", event="subscribe"))
    assert reply is not None and reply.kind == "welcome"
    assert "防范诈骗" in reply.text and "无证明办事" in reply.text and "人工" in reply.text


def test_unsubscribe_and_view_events_need_no_reply(dialogue: Dialogue) -> None:
    assert dialogue.respond(Incoming(user="u", event="unsubscribe")) is None
    assert dialogue.respond(Incoming(user="u", event="VIEW", event_key="https://x")) is None


@pytest.mark.parametrize("media", ["image", "location", "link", "video", "shortvideo"])
def test_media_gets_a_polite_text(dialogue: Dialogue, media: str) -> None:
    reply = dialogue.respond(Incoming(user="u", media=media))
    assert reply is not None and "文字" in reply.text


def test_answer_fills_settings_and_cites_the_law(dialogue: Dialogue, bare_db: Database) -> None:
    reply = dialogue.respond_to_text("u", "離婚冷靜期是多長時間")
    assert reply.kind == "answer" and reply.entry_id is not None
    assert "《民法典》第1077条" in reply.text
    assert "{办公室电话}" not in reply.text and "12345" in reply.text
    set_setting(bare_db, "办公室电话", "0538-0000000", "管理员")
    fresh = Dialogue(bare_db, dialogue.index)
    assert "0538-0000000" in fresh.respond_to_text("u", "离婚冷静期是多长时间").text


def test_original_text_of_the_cited_articles(dialogue: Dialogue) -> None:
    dialogue.respond_to_text("u", "离婚冷静期是多长时间")
    reply = dialogue.respond_to_text("u", "原文")
    assert reply.kind == "answer"
    assert reply.text.startswith("《民法典》第1077条\n自婚姻登记机关收到离婚登记申请之日起三十日内")


def test_article_lookup_and_unknown_article(dialogue: Dialogue) -> None:
    assert "夫妻一方要求离婚的" in dialogue.respond_to_text("u", "第一千零七十九条").text
    reply = dialogue.respond_to_text("u", "民法典第9999条")
    assert reply.kind == "answer" and "共1260条" in reply.text


@pytest.mark.parametrize(
    "ask", ["民法典第1079条是什么内容", "第1079条说的什么", "民法典第1079条啥意思？"]
)
def test_article_lookup_with_an_ending_gets_the_article(dialogue: Dialogue, ask: str) -> None:
    reply = dialogue.respond_to_text("u", ask)
    assert reply.kind == "answer" and reply.record == {"kind": "article"}
    assert reply.text.startswith("《民法典》第1079条\n夫妻一方要求离婚的")


def test_out_of_scope_falls_back_names_a_human_and_reports_the_closest(
    dialogue: Dialogue, bare_db: Database
) -> None:
    reply = dialogue.respond_to_text("u", "今天天气怎么样")
    assert reply.kind == "fallback"
    assert "12348" in reply.text and "110" in reply.text
    # The record of turns (bot.responder) keeps the closest entries for the staff's queue.
    assert all(c["score"] < Thresholds().choices for c in reply.record["candidates"])


def test_choices_then_select_by_number_in_several_forms(
    bare_db: Database, bare_database_path
) -> None:
    for question in ("冒充公安让转账到安全账户", "冒充客服说要退款", "冒充领导让转账"):
        create_entry(bare_db, _entry(question), "测试")
    dialogue = Dialogue(bare_db, current_index(bare_db, str(bare_database_path)))
    reply = dialogue.respond_to_text("u", "冒充")
    assert reply.kind == "choices" and len(reply.choices) == 3
    assert [c["entry_id"] for c in reply.record["candidates"]] == [
        c["entry_id"] for c in reply.choices
    ]
    assert all(c["score"] > 0 for c in reply.record["candidates"])
    for pick in ("2", "２", "第二个"):
        dialogue.respond_to_text("u", "冒充")
        chosen = dialogue.respond_to_text("u", pick)
        assert chosen.kind == "answer" and chosen.entry_id == reply.choices[1]["entry_id"]
    dialogue.respond_to_text("u", "冒充")
    assert dialogue.respond_to_text("u", "5").kind == "choices"


def test_choices_expire(bare_db: Database, bare_database_path) -> None:
    for question in ("冒充公安让转账到安全账户", "冒充客服说要退款"):
        create_entry(bare_db, _entry(question), "测试")
    dialogue = Dialogue(bare_db, current_index(bare_db, str(bare_database_path)), state_ttl=0.2)
    assert dialogue.respond_to_text("u", "冒充").kind == "choices"
    time.sleep(0.3)
    expired = dialogue.respond_to_text("u", "1")
    assert expired.kind == "help" and "选项已经过期" in expired.text


def test_state_is_per_resident(bare_db: Database, bare_database_path) -> None:
    for question in ("冒充公安让转账到安全账户", "冒充客服说要退款"):
        create_entry(bare_db, _entry(question), "测试")
    dialogue = Dialogue(bare_db, current_index(bare_db, str(bare_database_path)))
    assert dialogue.respond_to_text("alice", "冒充").kind == "choices"
    assert dialogue.respond_to_text("bob", "1").kind == "help"
    assert dialogue.respond_to_text("alice", "1").kind == "answer"


def test_menu_click_lists_a_topic_and_number_selects(bare_db: Database, bare_database_path) -> None:
    ids = [create_entry(bare_db, _entry(f"防骗问题{n}"), "测试") for n in range(3)]
    dialogue = Dialogue(bare_db, current_index(bare_db, str(bare_database_path)))
    reply = dialogue.respond(Incoming(user="u", event="CLICK", event_key="TOPIC_antifraud"))
    assert reply is not None and reply.kind == "choices"
    assert [c["entry_id"] for c in reply.choices] == ids
    picked = dialogue.respond_to_text("u", "3")
    assert picked.entry_id == ids[-1]
    assert dialogue.respond_to_text("u", "防范诈骗").kind == "choices"


@pytest.mark.parametrize(
    ("text", "expected"), [("帮助", "怎么用"), ("菜单", "怎么用"), ("人工", "12348")]
)
def test_keywords(dialogue: Dialogue, text: str, expected: str) -> None:
    reply = dialogue.respond_to_text("u", text)
    assert reply.kind == "help" and expected in reply.text


def test_long_answer_is_paged_and_more_returns_the_rest(
    bare_db: Database, bare_database_path
) -> None:
    sentences = [f"这是第{n}句很长的说明，讲清楚办事要带的材料和流程。" for n in range(120)]
    create_entry(bare_db, _entry("超长的问题说明", answer="".join(sentences)), "测试")
    dialogue = Dialogue(bare_db, current_index(bare_db, str(bare_database_path)))
    pages = [dialogue.respond_to_text("u", "超长的问题说明").text]
    while pages[-1].endswith(MORE_HINT):
        pages.append(dialogue.respond_to_text("u", "更多").text)
    assert len(pages) > 1
    assert all(len(page.encode()) <= MAX_REPLY_BYTES for page in pages)
    joined = "".join(page.removesuffix(MORE_HINT) for page in pages)
    assert all(sentence in joined for sentence in sentences)
    assert dialogue.respond_to_text("u", "更多").kind == "help"


def test_unpublished_entries_never_answer(bare_db: Database, bare_database_path) -> None:
    entry_id = create_entry(bare_db, COOLING_OFF, "测试")
    set_status(bare_db, entry_id, "archived", "测试")
    dialogue = Dialogue(bare_db, current_index(bare_db, str(bare_database_path)))
    assert all(
        c.entry_id != entry_id for c in dialogue.index.rank("离婚冷静期是多长时间", limit=10)
    )


def test_a_bare_number_with_nothing_to_choose_is_not_matched(
    bare_db: Database, bare_database_path
) -> None:
    create_entry(bare_db, _entry("拨打12315投诉怎么弄"), "测试")
    dialogue = Dialogue(bare_db, current_index(bare_db, str(bare_database_path)))
    for text in ("1", "第二个", "３"):
        reply = dialogue.respond_to_text("u", text)
        assert reply.kind == "help" and "请直接说出您想问的问题" in reply.text
    assert "candidates" not in reply.record  # nothing a resident asked went unanswered


LOAN_INTEREST = Entry(
    id=None,
    topic="contract",
    question="借钱约定的利息最高能多少？",
    alternates=["民间借贷利息上限", "借条利息太高受法律保护吗", "私人借款利率多少合法"],
    answer="约定的利率超过合同成立时一年期贷款市场报价利率四倍的部分，民间借贷司法解释规定不予支持。",
    law_refs=["民间借贷司法解释第25条", "民法典第680条"],
    status="published",
)
FULL_TITLE = "《最高人民法院关于审理民间借贷案件适用法律若干问题的规定》（民间借贷司法解释）"


def test_interpretation_is_named_in_full_the_first_time_a_resident_sees_it(
    bare_db: Database, bare_database_path
) -> None:
    create_entry(bare_db, LOAN_INTEREST, "测试")
    dialogue = Dialogue(bare_db, current_index(bare_db, str(bare_database_path)))
    first = dialogue.respond_to_text("u", "借钱约定的利息最高能多少")
    assert first.kind == "answer"
    assert first.text.count(FULL_TITLE) == 1
    assert f"{FULL_TITLE}规定不予支持" in first.text
    assert "法律依据：《民间借贷司法解释》第25条；《民法典》第680条" in first.text
    # The same resident: the short name from now on, in answers and in 原文.
    original = dialogue.respond_to_text("u", "原文")
    assert original.text.startswith(
        "《民间借贷司法解释》第25条\n出借人请求借款人按照合同约定利率支付利息的"
    )
    assert "《民法典》第680条\n禁止高利放贷" in original.text
    assert FULL_TITLE not in dialogue.respond_to_text("u", "借钱约定的利息最高能多少").text
    # Another resident sees the full title, even when the first thing asked is 原文-like.
    other = dialogue.respond_to_text("v", "民间借贷司法解释第25条")
    assert other.text.startswith(f"{FULL_TITLE}第25条\n出借人请求借款人")


@pytest.mark.parametrize(
    ("ask", "start"),
    [
        ("刑法第276条之一", "《刑法》第276条之一\n以转移财产、逃匿等方法逃避支付劳动者的劳动报酬"),
        ("劳动合同法第82条", "《劳动合同法》第82条\n用人单位自用工之日起超过一个月不满一年"),
        ("工伤保险条例第十四条", "《工伤保险条例》第14条\n职工有下列情形之一的，应当认定为工伤"),
    ],
)
def test_article_lookup_in_every_shipped_text(dialogue: Dialogue, ask: str, start: str) -> None:
    reply = dialogue.respond_to_text("u", ask)
    assert reply.kind == "answer" and reply.text.startswith(start)
