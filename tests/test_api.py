"""POST /api/ask: the reply contract, per-user state, paging and every bad request."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlite_utils import Database

from bot.api import MAX_TEXT_CHARS
from bot.paging import MAX_REPLY_BYTES, MORE_HINT
from knowledge.entries import Entry
from knowledge.store import create_entry, entries_by_topic
from tests.api_support import ask

LONG_QUESTION = "接口测试专用：一个特别长的回答要分几次发完？"


def publish(db: Database, topic: str, question: str, answer: str) -> int:
    """Create a published entry and return its id."""
    entry = Entry(id=None, topic=topic, question=question, answer=answer, status="published")
    return create_entry(db, entry, "测试")


def ask_for_entry(client: FlaskClient, question: str, entry_id: int) -> dict[str, Any]:
    """Ask ``question`` and, if Pufa offers choices, pick ``entry_id`` among them."""
    body = ask(client, question)
    if body["kind"] == "choices":
        number = next(c["n"] for c in body["choices"] if c["entry_id"] == entry_id)
        body = ask(client, str(number))
    return body


def test_greeting_gets_the_welcome(client: FlaskClient) -> None:
    body = ask(client, "你好")
    assert body["kind"] == "welcome"
    assert "防范诈骗" in body["reply"] and "人工" in body["reply"]
    assert body["entry_id"] is None and body["score"] is None and body["choices"] == []


@pytest.mark.parametrize("text", ["帮助", "菜单"])
def test_help_words_get_help(client: FlaskClient, text: str) -> None:
    body = ask(client, text)
    assert body["kind"] == "help"
    assert "婚姻家庭" in body["reply"] and body["choices"] == []


def test_out_of_scope_question_falls_back_to_a_person(client: FlaskClient) -> None:
    body = ask(client, "今天天气怎么样")
    assert body["kind"] == "fallback"
    assert body["entry_id"] is None and body["choices"] == []
    assert "12348" in body["reply"]


def test_article_lookup_answers_with_the_article_text(client: FlaskClient) -> None:
    body = ask(client, "民法典第1079条")
    assert body["kind"] == "answer"
    assert "《民法典》第1079条" in body["reply"]
    assert "夫妻一方要求离婚的，可以由有关组织进行调解" in body["reply"]


def test_topic_lists_choices_and_a_number_selects_one(client: FlaskClient, db: Database) -> None:
    publish(db, "antifraud", "自称客服说要退款让我点链接怎么办？", "这是诈骗，不要点链接。")
    listed = entries_by_topic(db, "antifraud")[:9]
    body = ask(client, "防范诈骗")
    assert body["kind"] == "choices"
    assert body["choices"] == [
        {"n": n, "entry_id": entry.id, "question": entry.question}
        for n, entry in enumerate(listed, start=1)
    ]
    assert f"1. {listed[0].question}" in body["reply"]
    answer = ask(client, "1")
    assert answer["kind"] == "answer"
    assert answer["entry_id"] == listed[0].id
    assert listed[0].answer.splitlines()[0][:10] in answer["reply"]


def test_full_width_digit_selects_too(client: FlaskClient, db: Database) -> None:
    publish(db, "antifraud", "自称客服说要退款让我点链接怎么办？", "这是诈骗，不要点链接。")
    second = ask(client, "防范诈骗")["choices"][1]
    assert ask(client, "２")["entry_id"] == second["entry_id"]


def test_choices_belong_to_the_user_who_got_them(client: FlaskClient) -> None:
    offered = ask(client, "防范诈骗", user="alice")["choices"]
    assert offered
    bob = ask(client, "1", user="bob")
    assert bob["kind"] != "answer"
    alice = ask(client, "1", user="alice")
    assert alice["kind"] == "answer" and alice["entry_id"] == offered[0]["entry_id"]


def test_long_answer_comes_in_pages_and_more_gives_the_rest(
    client: FlaskClient, db: Database
) -> None:
    sentences = [f"第{n}句说明的是分页时每一句都要完整地保留下来不被截断。" for n in range(60)]
    answer = "".join(sentences)
    assert len(answer) >= 1500
    entry_id = publish(db, "services", LONG_QUESTION, answer)

    first = ask_for_entry(client, LONG_QUESTION, entry_id)
    assert first["kind"] == "answer" and first["entry_id"] == entry_id
    pages = [first["reply"]]
    while pages[-1].endswith(MORE_HINT):
        assert len(pages) < 10
        assert len(pages[-1].encode("utf-8")) <= MAX_REPLY_BYTES
        more = ask(client, "更多")
        assert more["kind"] == "answer"
        pages.append(more["reply"])
    assert len(pages) >= 3
    assert len(pages[-1].encode("utf-8")) <= MAX_REPLY_BYTES
    # Cut only at sentence ends, and nothing lost or repeated.
    for page in pages[:-1]:
        assert page.removesuffix(MORE_HINT).endswith("。")
    joined = "".join(page.removesuffix(MORE_HINT) for page in pages)
    assert re.sub(r"\s", "", joined) == answer
    assert ask(client, "更多")["kind"] == "help"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("{not json", "application/json"),
        ('{"text": "你好"', "application/json"),
        ('["你好"]', "application/json"),
        ('"你好"', "application/json"),
        ("null", "application/json"),
        ("42", "application/json"),
        ('{"text": "你好"}', "text/plain"),
        ("", "application/json"),
        ("{}", "application/json"),
        ('{"user": "u"}', "application/json"),
        ('{"text": ""}', "application/json"),
        ('{"text": "   \\n "}', "application/json"),
        ('{"text": 42}', "application/json"),
        ('{"text": null}', "application/json"),
        ('{"text": ["你好"]}', "application/json"),
        ('{"text": {"q": "你好"}}', "application/json"),
        (json.dumps({"text": "问" * (MAX_TEXT_CHARS + 1)}), "application/json"),
        ('{"text": "你好", "user": 42}', "application/json"),
        (json.dumps({"text": "你好", "user": "u" * 129}), "application/json"),
    ],
)
def test_bad_requests_get_400_with_a_json_error(
    client: FlaskClient, body: str, content_type: str
) -> None:
    response = client.post("/api/ask", data=body, content_type=content_type)
    assert response.status_code == 400
    assert response.is_json
    error = response.get_json()
    assert error["status"] == 400 and error["error"]


def test_longest_allowed_text_is_answered(client: FlaskClient) -> None:
    assert ask(client, "问" * MAX_TEXT_CHARS)["kind"] in {"fallback", "choices", "answer"}


def test_get_is_refused_with_405_in_json(client: FlaskClient) -> None:
    response = client.get("/api/ask")
    assert response.status_code == 405
    assert response.is_json and response.get_json()["status"] == 405
    assert "POST" in response.headers["Allow"]


def test_lone_surrogates_in_the_json_are_answered_not_a_500(
    client: FlaskClient, db: Database
) -> None:
    # JSON may escape half an emoji ("\ud83d"); Python decodes it to a lone surrogate.
    body = '{"text": "\\ud83d離婚冷靜期多久\\udc00", "user": "\\ud800resident"}'
    response = client.post("/api/ask", data=body, content_type="application/json")
    assert response.status_code == 200
    assert response.get_json()["kind"] == "answer"
    odd = '{"text": "\\ud83d天气怎么样", "user": "\\ud800resident"}'
    assert client.post("/api/ask", data=odd, content_type="application/json").status_code == 200
    logged = db.execute("SELECT text FROM turns ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert logged == "\ufffd天气怎么样"
