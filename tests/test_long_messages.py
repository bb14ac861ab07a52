"""Long consultations: the question is found inside the story and banded on its own."""

from __future__ import annotations

from dataclasses import replace
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
from knowledge.matching.matcher import LONG_MESSAGE_THRESHOLDS, MatchIndex
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
    """The shipped matcher on each half of the 250 real consultations, and on all."""
    db: Database = connect(seeded_database)
    try:
        resolve = resolver_for(published_entries(db))
    finally:
        db.close()
    questions = read_labeled_file(REAL_QUESTIONS)
    figures = {
        part: evaluate(shipped, select_part(questions, part), resolve)
        for part in ("tuning", "held-out")
    }
    figures["all"] = evaluate(shipped, questions, resolve)
    return figures


@pytest.mark.parametrize("part", ["tuning", "held-out"])
def test_most_real_questions_a_faq_should_answer_are_helped_in_each_half(
    real_figures: dict[str, Figures], part: str
) -> None:
    faq = real_figures[part].scope["faq"]
    assert faq.helped / faq.total >= 0.55
    assert real_figures[part].wrong_direct_percent() <= 4.0


def test_the_real_questions_meet_the_targets(real_figures: dict[str, Figures]) -> None:
    figures = real_figures["all"]
    faq, off_topic = figures.scope["faq"], figures.scope["off_topic"]
    assert faq.helped / faq.total >= 0.60
    assert figures.wrong_direct_percent() <= 3.0
    assert off_topic.wrong_direct / off_topic.total <= 0.05


def test_a_clause_that_tells_what_was_done_does_not_ask() -> None:
    focus = find_focus(
        "我父亲去年冬天住院的时候，趁着头脑还清楚，自己拿笔在纸上写了房子和存款怎么分，"
        "签了名字也写了日期，没有找证人，现在他走了，哥哥说这个不算数，自己手写的遗嘱有效吗？"
    )
    assert "怎么分" not in focus.question
    assert focus.question.endswith("自己手写的遗嘱有效")
    # The last question keeps its clause whatever it holds.
    assert (
        "借了多少"
        in find_focus(
            "我朋友前年找我借钱，说是做生意周转，一直没打借条，后来他人也联系不上了，他借了多少钱我都记得"
        ).question
    )


def test_a_long_message_that_is_all_question_is_banded_as_a_long_one(
    shipped: MatchIndex,
) -> None:
    text = "婚前我自己全款买的房子婚后两个人一起装修的现在要离婚了装修的钱能不能分一半"
    assert find_focus(text).is_whole and len(text) > SHORT_MESSAGE
    match = shipped.match(text)
    assert match.long
    assert match.band != "fallback"


#: Stories with no legal facts in them, put in front of short questions.
NEUTRAL_STORIES = (
    "我是泰山脚下的村民，今年五十多岁了，平时在家种地，孩子们都在外地打工，有件事一直想不明白，",
    "您好，我在景区附近开了个小饭店，平时生意还行，最近遇到点事，心里一直不踏实，想咨询一下，",
    "我们一家住在城里，老伴退休了，我身体不太好，这事拖了好几个月了，家里人说法不一，",
)
SHORT_QUESTIONS = Path(__file__).parent / "eval" / "questions.jsonl"


@pytest.fixture(scope="module")
def told_as_stories(shipped: MatchIndex) -> list[tuple[bool, str, str, bool]]:
    """Each short question of the shipped set with a neutral story in front: whether an
    entry answers it, its band alone, its band in the story, and whether both put the
    same entry first.

    The band alone is the thresholds' band: a short question whose weak options were all
    dropped (:mod:`knowledge.matching.options`, a rule of short messages only) counts as
    choices, so that the story is compared with what the long-message rules can see."""
    outcomes = []
    for question in read_labeled_file(SHORT_QUESTIONS):
        if len(question.text) > SHORT_MESSAGE:
            continue
        alone = shipped.match(question.text)
        trimmed = alone.best is not None and alone.best.score >= shipped.thresholds.choices
        band_alone = "choices" if alone.band == "fallback" and trimmed else alone.band
        for story in NEUTRAL_STORIES:
            told = shipped.match(story + question.text)
            same = (
                alone.best is not None
                and told.best is not None
                and alone.best.entry_id == told.best.entry_id
            )
            outcomes.append((question.expect is not None, band_alone, told.band, same))
    return outcomes


def test_a_clear_question_told_as_a_story_keeps_its_answer(
    told_as_stories: list[tuple[bool, str, str, bool]],
) -> None:
    answered = [o for o in told_as_stories if o[0] and o[1] == "answer"]
    assert len(answered) >= 500
    kept = sum(band == "answer" and same for _, _, band, same in answered)
    switched = sum(band == "answer" and not same for _, _, band, same in answered)
    assert kept / len(answered) >= 0.85
    assert switched / len(answered) <= 0.01


def test_a_question_no_entry_answers_told_as_a_story_is_not_answered(
    told_as_stories: list[tuple[bool, str, str, bool]],
) -> None:
    unanswered = [o for o in told_as_stories if not o[0] and o[1] != "answer"]
    assert unanswered
    assert not any(band == "answer" for _, _, band, _ in unanswered)
    fell_back = [o for o in unanswered if o[1] == "fallback"]
    assert sum(band == "fallback" for _, _, band, _ in fell_back) / len(fell_back) >= 0.7


def test_a_real_question_with_its_entry_in_the_first_three_mostly_gets_choices(
    shipped: MatchIndex, seeded_database: Path
) -> None:
    db: Database = connect(seeded_database)
    try:
        resolve = resolver_for(published_entries(db))
    finally:
        db.close()
    ranked, offered = 0, 0
    for question in read_labeled_file(REAL_QUESTIONS):
        expected = resolve(question.expect) if question.expect is not None else None
        match = shipped.match(question.text)
        if expected in [c.entry_id for c in match.candidates]:
            ranked += 1
            offered += match.band != "fallback"
    assert ranked >= 120
    # 0.86 before stock endings left the features and weak options the choices (issue 15):
    # two stories whose ask was 怎样维权 fell under the long choices line, and one weak
    # short question's three near-equal options. Recalibrate with the semantic opinion.
    assert offered / ranked >= 0.84


def test_a_reading_answers_only_when_the_key_facts_keep_its_entry_ahead(
    seeded_database: Path,
) -> None:
    db: Database = connect(seeded_database)
    try:
        entries, synonyms = published_entries(db), synonym_groups(db)
    finally:
        db.close()
    story = (
        "我和老公结婚八年了，这两年一直吵架，他还经常不回家，上个月我们商量好了去民政局"
        "协议离婚，工作人员说要先等一段时间，请问离婚冷静期是多长时间？"
    )
    shipped = MatchIndex(entries, synonyms)
    assert shipped.match(story).band == "answer"
    strict = MatchIndex(
        entries, synonyms, long_thresholds=replace(LONG_MESSAGE_THRESHOLDS, key_facts_lead=1.0)
    )
    match = strict.match(story)
    assert match.band == "choices" and match.settled_by is None
