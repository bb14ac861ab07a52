"""试一试: the ranking, the band and why, and the exact reply — without leaving a trace."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask
from sqlite_utils import Database

from bot.tryout import try_question
from knowledge.matching.live_index import current_index
from knowledge.matching.matcher import MatchIndex
from knowledge.store import published_entries
from knowledge.synonyms import synonym_groups


def tryout(app: Flask, db: Database, text: str):
    return try_question(db, current_index(db, str(app.config["DATABASE"])), text)


def test_a_clear_question_is_answered_and_every_rule_shown(app: Flask, db: Database) -> None:
    result = tryout(app, db, "离婚冷静期多久")
    assert result.band == "answer" and result.reply.kind == "answer"
    assert result.reasons[0].startswith("三条都满足") and len(result.reasons) == 4
    assert result.reply.entry_id == result.candidates[0].entry_id
    assert "法律依据" in result.reply.text and result.rule == ""


def test_an_ambiguous_question_names_the_rule_that_gave_choices(app: Flask, db: Database) -> None:
    result = tryout(app, db, "冒充")
    assert result.band == "choices" and result.reply.kind == "choices"
    assert "所以给出选项" in result.reasons[0] and "不到" in result.reasons[0]
    assert [c["entry_id"] for c in result.reply.choices] == [c.entry_id for c in result.candidates]


def test_an_unknown_question_falls_back_below_the_choices_line(app: Flask, db: Database) -> None:
    result = tryout(app, db, "今天天气怎么样")
    assert result.band == "fallback" and "低于给选项的线" in result.reasons[0]
    assert "12348" in result.reply.text


def test_fixed_rules_are_named_and_nothing_is_recorded(app: Flask, db: Database) -> None:
    assert tryout(app, db, "菜单").rule == "帮助"
    assert tryout(app, db, "民法典第1079条").rule == "查法条"
    assert tryout(app, db, "婚姻家庭").rule == "浏览主题"
    assert db["turns"].count == 0 and db["conversations"].count == 0


def test_a_long_story_is_explained_by_the_long_message_rules(app: Flask, db: Database) -> None:
    result = tryout(
        app,
        db,
        "我和老公结婚八年了，这两年一直吵架，他还经常不回家，上个月我们商量好了去民政局"
        "协议离婚，工作人员说要先等一段时间，请问离婚冷静期是多长时间？",
    )
    assert result.band == "answer"
    assert result.reasons[0].startswith("这是一段长咨询")
    assert "把其中的问题单独读" in result.reasons[0] and "所以直接回答" in result.reasons[0]


def test_a_long_story_that_fits_nothing_names_the_long_choices_line(
    app: Flask, db: Database
) -> None:
    result = tryout(
        app,
        db,
        "我老伴去年走了，留下我一个人住在城里的楼房里，儿女都在外地工作，平时也没人说话，"
        "最近想养只鸟解解闷，养什么鸟比较好伺候？",
    )
    assert result.band == "fallback"
    assert "低于长咨询给选项的线" in result.reasons[0]


def test_a_story_whose_key_facts_leave_a_tie_says_so(app: Flask, db: Database) -> None:
    index = current_index(db, str(app.config["DATABASE"]))
    strict = MatchIndex(
        published_entries(db),
        synonym_groups(db),
        long_thresholds=replace(index.long_thresholds, key_facts_lead=1.0),
    )
    result = try_question(
        db,
        strict,
        "我和老公结婚八年了，这两年一直吵架，他还经常不回家，上个月我们商量好了去民政局"
        "协议离婚，工作人员说要先等一段时间，请问离婚冷静期是多长时间？",
    )
    assert result.band == "choices"
    assert "结合全段事实" in result.reasons[0] and "分不清是哪一条" in result.reasons[0]


def test_an_answer_opening_yes_to_a_question_that_is_not_yes_no_is_explained(
    app: Flask, db: Database
) -> None:
    result = tryout(app, db, "政务服务大厅几点上班")
    assert result.band == "choices" and "是非判断开头" in result.reasons[0]
    assert result.reply.kind == "choices"


def test_weak_options_dropped_to_the_fallback_are_explained(app: Flask, db: Database) -> None:
    result = tryout(app, db, "狗能带上公交车吗")
    assert result.band == "fallback" and result.reply.kind == "fallback"
    assert "没有哪一条明显突出" in result.reasons[0]


def test_options_left_out_are_explained(app: Flask, db: Database) -> None:
    result = tryout(app, db, "老人接到电话说孙子出事要打钱")
    assert result.band == "choices" and len(result.reply.choices) < len(result.candidates)
    assert result.reasons[-1].startswith("只列出得分达到第一名 75% 的")
