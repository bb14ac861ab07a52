"""The law corpus: the four shipped texts parse completely, and article look-ups answer."""

from __future__ import annotations

import pytest

from knowledge.laws import (
    LAW_NAMES,
    answer_article_ask,
    article_for_ref,
    chinese_to_int,
    find_article,
    law_articles,
)

# Article counts from knowledge/laws/README.md.
ARTICLE_COUNTS = {"民法典": 1260, "反电信网络诈骗法": 50, "反有组织犯罪法": 77, "国家安全法": 84}


def test_every_shipped_law_is_listed() -> None:
    assert set(LAW_NAMES) == set(ARTICLE_COUNTS)


@pytest.mark.parametrize(("law", "count"), ARTICLE_COUNTS.items())
def test_law_parses_with_every_article_present(law: str, count: int) -> None:
    articles = law_articles(law)
    assert sorted(articles) == list(range(1, count + 1))
    assert all(article.text.strip() for article in articles.values())
    assert all(article.law == law for article in articles.values())


def test_article_text_is_whole_and_free_of_headings() -> None:
    article = find_article("民法典", 1077)
    assert article is not None
    assert article.text.startswith("自婚姻登记机关收到离婚登记申请之日起三十日内")
    # Its second paragraph is kept.
    assert "前款规定期限届满后三十日内" in article.text
    # The article before a chapter heading does not swallow the heading.
    for text in (a.text for a in law_articles("民法典").values()):
        assert "\n#" not in text and not text.startswith("#")


def test_last_civil_code_article_is_the_commencement() -> None:
    assert "本法自2021年1月1日起施行" in law_articles("民法典")[1260].text


@pytest.mark.parametrize(
    ("ref", "number"),
    [("民法典第1079条", 1079), ("反电信网络诈骗法第5条", 5), ("国家安全法第84条", 84)],
)
def test_article_for_ref_finds_the_article(ref: str, number: int) -> None:
    article = article_for_ref(ref)
    assert article is not None and article.number == number


@pytest.mark.parametrize(
    "ref", ["民法典第1261条", "民法典第0条", "国家安全法第85条", "刑法第266条", "民法典1079条"]
)
def test_article_for_ref_refuses_what_is_not_there(ref: str) -> None:
    assert article_for_ref(ref) is None


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("十", 10),
        ("十一", 11),
        ("二十", 20),
        ("一百零五", 105),
        ("一百一十", 110),
        ("一千零七十九", 1079),
        ("一千零一十", 1010),
        ("一千二百六十", 1260),
        ("两百", 200),
        ("1079", 1079),
    ],
)
def test_chinese_to_int(text: str, number: int) -> None:
    assert chinese_to_int(text) == number


def test_chinese_to_int_refuses_other_text() -> None:
    with pytest.raises(ValueError):
        chinese_to_int("一千零七十九条")


@pytest.mark.parametrize(
    ("ask", "title"),
    [
        ("民法典第1079条", "《民法典》第1079条"),
        ("第一千零七十九条", "《民法典》第1079条"),
        ("1079条", "《民法典》第1079条"),
        ("反电信网络诈骗法第5条", "《反电信网络诈骗法》第5条"),
        ("民法典最后一条", "《民法典》第1260条"),
        ("《民法典》第一千零七十七条是什么？", "《民法典》第1077条"),
        ("民法典第一千零七十九條", "《民法典》第1079条"),
        ("中华人民共和国民法典第1079条", "《民法典》第1079条"),
        ("国家安全法第十四条", "《国家安全法》第14条"),
    ],
)
def test_article_ask_answers_with_the_article(ask: str, title: str) -> None:
    reply = answer_article_ask(ask)
    assert reply is not None
    citation, text = reply.split("\n", 1)
    law, number = title[1:].split("》第")
    assert citation == title
    assert text == law_articles(law)[int(number.rstrip("条"))].text


def test_unknown_article_number_gets_a_clear_reply() -> None:
    reply = answer_article_ask("民法典第1300条")
    assert reply is not None
    assert "共1260条" in reply and "没有第1300条" in reply
    assert not reply.startswith("《民法典》第")


def test_unknown_article_of_a_small_law_names_its_count() -> None:
    reply = answer_article_ask("反电信网络诈骗法第51条")
    assert reply is not None and "共50条" in reply


@pytest.mark.parametrize(
    "text", ["离婚冷静期", "民法典", "我借给他1079块钱", "第1079条规定离婚冷静期吗", "", "条"]
)
def test_questions_that_are_not_article_asks(text: str) -> None:
    assert answer_article_ask(text) is None
