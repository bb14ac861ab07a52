"""Long consultations: the question is found inside the story and banded on its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlite_utils import Database

from knowledge.db import connect
from knowledge.matching.clauses import SHORT_MESSAGE, asks, find_focus, split_clauses
from knowledge.matching.evaluation import (
    Figures,
    evaluate,
    read_labeled_file,
    resolver_for,
    select_part,
)
from knowledge.matching.matcher import MatchIndex
from knowledge.store import published_entries
from knowledge.synonyms import synonym_groups

REAL_QUESTIONS = Path(__file__).parent / "eval" / "real_questions.jsonl"


@pytest.fixture(scope="module")
def shipped(seeded_database: Path) -> MatchIndex:
    """The matcher over the shipped knowledge base."""
    db: Database = connect(seeded_database)
    try:
        return MatchIndex(published_entries(db), synonym_groups(db))
    finally:
        db.close()


def test_clauses_split_at_punctuation_and_where_a_question_opens() -> None:
    assert split_clauses("婚前买的房，婚后一起还贷。现在离婚，房子归谁？") == [
        "婚前买的房",
        "婚后一起还贷",
        "现在离婚",
        "房子归谁",
    ]
    assert split_clauses("我借给他五万块钱他一直不还请问能起诉吗") == [
        "我借给他五万块钱他一直不还",
        "请问能起诉吗",
    ]


@pytest.mark.parametrize(
    ("clause", "asking"),
    [
        ("父亲可以告母亲吗", True),
        ("能不能要回来", True),
        ("这钱该谁出", True),
        ("是否有效", True),
        ("赔偿金多少合适", True),
        ("我该怎么办", True),
        ("他去年把房子卖了", False),
        ("我们结婚八年了", False),
        ("孩子跟着母亲生活", False),
    ],
)
def test_a_clause_asks_when_it_holds_a_question_word(clause: str, asking: bool) -> None:
    assert asks(clause) is asking


def test_a_question_mark_makes_a_clause_ask() -> None:
    assert asks("他说房子也有他一半", marked=True)


def test_the_focus_of_a_story_is_its_question() -> None:
    focus = find_focus(
        "我爷爷三年前去世了，留下一套老房子一直没分，去年我爸也走了，"
        "现在姑姑说我爸那份没了，我和我妈能继承我爸那一份吗？"
    )
    assert not focus.is_whole
    assert focus.question == "我和我妈能继承我爸那一份"
    assert "爷爷三年前去世" in focus.whole


def test_a_bare_question_keeps_the_clause_before_it() -> None:
    focus = find_focus(
        "我在小区门口理发店充了两千块会员卡，才剪了两回，店门就关了，老板电话也打不通，能退吗？"
    )
    assert focus.question == "老板电话也打不通能退"


def test_a_story_without_question_words_is_asked_by_its_end() -> None:
    focus = find_focus(
        "对方带了一群人来打我老公，我老公出去正当防卫还了一拳，结果对方要求拘留我老公"
    )
    assert focus.question == "我老公出去正当防卫还了一拳结果对方要求拘留我老公"


def test_a_short_message_is_its_own_question() -> None:
    text = "婚前买的房子离婚时怎么分"
    assert len(text) <= SHORT_MESSAGE
    assert find_focus(text).is_whole


@pytest.mark.parametrize(
    ("story", "question"),
    [
        (
            "我和老公结婚八年了，这两年一直吵架，他还经常不回家，上个月我们商量好了去民政局"
            "协议离婚，工作人员说要先等一段时间，请问离婚冷静期是多长时间？",
            "离婚冷静期是多长时间",
        ),
        (
            "我父亲去年冬天住院的时候，趁着头脑还清楚，自己拿笔在纸上写了房子和存款怎么分，"
            "签了名字也写了日期，没有找证人，现在他走了，哥哥说这个不算数，自己手写的遗嘱有效吗？",
            "自己手写的遗嘱有效吗",
        ),
    ],
)
def test_a_story_with_a_clear_question_gets_the_band_and_entry_of_its_question(
    shipped: MatchIndex, story: str, question: str
) -> None:
    long, short = shipped.match(story), shipped.match(question)
    assert long.long and not short.long
    assert long.band == short.band != "fallback"
    assert long.best is not None and short.best is not None
    assert long.best.entry_id == short.best.entry_id


@pytest.mark.parametrize(
    "story",
    [
        "我老伴去年走了，留下我一个人住在城里的楼房里，儿女都在外地工作，平时也没人说话，"
        "最近想养只鸟解解闷，养什么鸟比较好伺候？",
        "我在县城开了一家小面馆，开了三年生意一直不温不火，最近对面又开了一家，"
        "想把店重新装修一下再推几个新菜，什么样的招牌菜最能吸引年轻人？",
    ],
)
def test_a_long_story_whose_question_fits_no_entry_falls_back(
    shipped: MatchIndex, story: str
) -> None:
    match = shipped.match(story)
    assert match.long
    assert match.band == "fallback"


def test_the_question_decides_between_entries_the_story_shares(shipped: MatchIndex) -> None:
    story = "老人走了，留下一套房子和一些存款，我们兄妹三个，大哥一直跟老人住，{}"
    debts = shipped.match(story.format("老人生前欠的债我们要替他还吗？"))
    will = shipped.match(story.format("老人自己手写的遗嘱有效吗？"))
    assert debts.best is not None and will.best is not None
    assert "欠债" in debts.best.question
    assert "遗嘱" in will.best.question


def test_the_question_outweighs_a_story_about_something_else(shipped: MatchIndex) -> None:
    match = shipped.match(
        "我们小区的物业这两年换了三次，每次都说要涨物业费，业主们意见很大，"
        "我和老公也为这事吵了好几回，现在商量着协议离婚，请问离婚冷静期是多长时间？"
    )
    assert match.best is not None
    assert "冷静期" in match.best.question


@pytest.fixture(scope="module")
def real_figures(shipped: MatchIndex, seeded_database: Path) -> dict[str, Figures]:
    """The shipped matcher on each half of the 250 real consultations."""
    db: Database = connect(seeded_database)
    try:
        resolve = resolver_for(published_entries(db))
    finally:
        db.close()
    questions = read_labeled_file(REAL_QUESTIONS)
    return {
        part: evaluate(shipped, select_part(questions, part), resolve)
        for part in ("tuning", "held-out")
    }


@pytest.mark.parametrize("part", ["tuning", "held-out"])
def test_half_the_real_questions_a_faq_should_answer_are_helped(
    real_figures: dict[str, Figures], part: str
) -> None:
    faq = real_figures[part].scope["faq"]
    assert faq.helped / faq.total >= 0.48
    assert real_figures[part].wrong_direct_percent() <= 3.0
