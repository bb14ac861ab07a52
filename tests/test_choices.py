"""Choices as a resident sees them: few and close to the best, the way out, and "0"."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlite_utils import Database

from bot import texts
from bot.dialogue import Dialogue
from bot.paging import MAX_REPLY_BYTES
from knowledge.entries import MAX_QUESTION_CHARS, Entry
from knowledge.matching.live_index import current_index
from knowledge.matching.matcher import Candidate
from knowledge.matching.options import (
    LONG_OPTION_SHARE,
    OPTION_SHARE,
    WEAK_MARGIN,
    choose_options,
)
from knowledge.store import create_entry
from knowledge.unanswered import recent_unanswered

LINE = 0.3
STRONG = LINE * (1 + WEAK_MARGIN) + 0.1  # well above the weak zone


def _ranked(*scores: float) -> list[Candidate]:
    return [Candidate(n, f"问题{n}", score) for n, score in enumerate(scores, start=1)]


def _ids(options: tuple[Candidate, ...]) -> list[int]:
    return [option.entry_id for option in options]


def test_options_close_to_the_best_are_kept_and_an_unrelated_third_dropped() -> None:
    best = STRONG
    close, far = best * (OPTION_SHARE + 0.01), best * (OPTION_SHARE - 0.01)
    assert _ids(choose_options(_ranked(best, close, close), LINE)) == [1, 2, 3]
    assert _ids(choose_options(_ranked(best, close, far), LINE)) == [1, 2]
    assert _ids(choose_options(_ranked(best, far, far), LINE)) == [1]


def test_below_the_choices_line_nothing_is_offered() -> None:
    assert choose_options(_ranked(LINE - 0.01, LINE - 0.02), LINE) == ()
    assert choose_options([], LINE) == ()


def test_a_weak_best_alone_or_among_three_equals_falls_back() -> None:
    weak = LINE * (1 + WEAK_MARGIN) - 0.005
    assert choose_options(_ranked(weak, weak * 0.99, weak * 0.98), LINE) == ()
    assert choose_options(_ranked(weak, weak * 0.5), LINE) == ()
    # Two close options still stand out from the rest.
    assert _ids(choose_options(_ranked(weak, weak * 0.95, weak * 0.5), LINE)) == [1, 2]


def test_long_messages_keep_options_by_their_own_share() -> None:
    best = LINE + 0.01
    near = best * (LONG_OPTION_SHARE + 0.01)
    assert _ids(choose_options(_ranked(best, near, near), LINE, long=True)) == [1, 2, 3]
    far = best * (LONG_OPTION_SHARE - 0.01)
    assert _ids(choose_options(_ranked(best, near, far), LINE, long=True)) == [1, 2]


def _entry(question: str, answer: str = "先报警110。") -> Entry:
    return Entry(id=None, topic="antifraud", question=question, answer=answer, status="published")


def _dialogue(db: Database, path: object, questions: list[str]) -> Dialogue:
    for question in questions:
        create_entry(db, _entry(question), "测试")
    return Dialogue(db, current_index(db, str(path)))


def test_three_choices_say_which_numbers_and_the_way_out(
    bare_db: Database, bare_database_path: object
) -> None:
    dialogue = _dialogue(
        bare_db,
        bare_database_path,
        ["冒充公安让转账到安全账户", "冒充客服说要退款", "冒充领导让转账"],
    )
    reply = dialogue.respond_to_text("u", "冒充")
    assert reply.kind == "choices" and len(reply.choices) == 3
    assert "回复数字1、2或3查看答案。" in reply.text and "序号" not in reply.text
    assert reply.text.endswith(f"{texts.WAY_OUT}。")


def test_one_option_far_ahead_is_offered_alone(client: FlaskClient) -> None:
    asked = {"text": "儿女都不给养老钱，上了年纪的人能通过法律要生活费吗？", "user": "r2"}
    body = client.post("/api/ask", json=asked).get_json()
    assert body["kind"] == "choices", body
    assert [c["question"] for c in body["choices"]] == ["子女不赡养老人，老人该怎么办？"]
    assert body["reply"].startswith("您是想问：子女不赡养老人，老人该怎么办？\n回复1查看答案。")
    assert body["reply"].endswith(f"{texts.WAY_OUT}。")
    picked = client.post("/api/ask", json={"text": "1", "user": "r2"}).get_json()
    assert picked["kind"] == "answer" and picked["entry_id"] == body["choices"][0]["entry_id"]


def test_how_to_pick_names_the_numbers() -> None:
    assert texts.how_to_pick(2) == "回复数字1或2"
    assert texts.how_to_pick(3) == "回复数字1、2或3"
    assert texts.how_to_pick(9) == "回复数字1到9"
    assert "回复数字1或2查看答案" in texts.matched_choices_text(["甲？", "乙？"])


def test_zero_gives_a_person_to_call_and_queues_the_question(
    client: FlaskClient, db: Database
) -> None:
    asked = "接到电话说孙子出事了要打钱"
    first = client.post("/api/ask", json={"text": asked, "user": "r1"}).get_json()
    assert first["kind"] == "choices", first
    declined = client.post("/api/ask", json={"text": "0", "user": "r1"}).get_json()
    assert declined["kind"] == "fallback" and declined["choices"] == []
    assert "记下" in declined["reply"] and "12348" in declined["reply"]
    assert "1." not in declined["reply"]  # no new set of choices
    queued = recent_unanswered(db)
    assert [row["kind"] for row in queued[:2]] == ["declined", "choices"]
    assert queued[0]["text"] == asked
    offered = [c["entry_id"] for c in first["choices"]]
    assert [c["entry_id"] for c in queued[0]["candidates"]] == offered
    # The choices are gone: another "1" selects nothing.
    again = client.post("/api/ask", json={"text": "1", "user": "r1"}).get_json()
    assert again["kind"] == "help"


@pytest.mark.parametrize("word", ["都不是", "都不对啊"])
def test_none_fit_words_work_like_zero(
    bare_db: Database, bare_database_path: object, word: str
) -> None:
    dialogue = _dialogue(bare_db, bare_database_path, ["冒充公安让转账", "冒充客服说要退款"])
    assert dialogue.respond_to_text("u", "冒充").kind == "choices"
    reply = dialogue.respond_to_text("u", word)
    assert reply.kind == "fallback" and reply.record["kind"] == "declined"
    assert reply.record["question"] == "冒充"


def test_zero_after_a_topic_list_records_nothing(
    bare_db: Database, bare_database_path: object
) -> None:
    dialogue = _dialogue(bare_db, bare_database_path, ["防骗问题一", "防骗问题二"])
    assert dialogue.respond_to_text("u", "防范诈骗").kind == "choices"
    reply = dialogue.respond_to_text("u", "0")
    assert reply.kind == "help" and "candidates" not in reply.record


def test_three_longest_questions_fit_one_wechat_reply() -> None:
    questions = ["问" * (MAX_QUESTION_CHARS - 1) + "？"] * 3
    for text in (texts.matched_choices_text(questions), texts.single_choice_text(questions[0])):
        assert len(text.encode()) <= MAX_REPLY_BYTES
        assert text.endswith(f"{texts.WAY_OUT}。")


@pytest.mark.parametrize(
    ("text", "unrelated"),
    [
        ("老人接到电话说孙子出事要打钱", "父亲比爷爷先去世，我能继承爷爷的遗产吗？"),
        ("狗能带上公交车吗", "遇到性骚扰怎么办？"),
        ("早上好呀", "出了交通事故，赔偿怎么处理？"),
    ],
)
def test_shipped_base_offers_no_unrelated_option(
    client: FlaskClient, text: str, unrelated: str
) -> None:
    body = client.post("/api/ask", json={"text": text}).get_json()
    assert unrelated not in body["reply"]
    assert len(body["choices"]) <= 3
