"""Scoring the matcher on a labeled question file: the figures, the errors, the CLI."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskCliRunner
from sqlite_utils import Database

from knowledge.entries import Entry, entry_from_record
from knowledge.matching.evaluation import (
    EvaluationError,
    LabeledQuestion,
    evaluate,
    format_report,
    parse_labeled_lines,
    read_labeled_file,
    resolver_for,
    select_part,
)
from knowledge.matching.matcher import MatchIndex
from knowledge.store import create_entry


def entry(entry_id: int, question: str, alternates: list[str], answer: str) -> Entry:
    """A published entry with an id, as the index holds it."""
    record = {"topic": "services", "question": question, "alternates": alternates}
    made = entry_from_record({**record, "answer": answer, "status": "published"})
    return dataclasses.replace(made, id=entry_id)


# Entries 3 and 4 ask the same thing: the matcher cannot tell them apart and offers both.
ENTRIES = [
    entry(1, "离婚冷静期是多长时间", ["协议离婚要等多久"], "离婚冷静期是三十天，协议离婚要等。"),
    entry(2, "被狗咬了找谁赔偿", ["狗咬人谁负责"], "被狗咬了由狗的主人赔偿医药费。"),
    entry(3, "邻居装修噪音太大", ["装修吵"], "邻居装修噪音太大可以找物业。"),
    entry(4, "邻居装修噪音太大！", ["装修太吵"], "邻居装修噪音太大可以找物业。"),
]
LABELED = [
    LabeledQuestion(1, "离婚冷静期是多长时间", 1),  # correct
    LabeledQuestion(2, "被狗咬了找谁赔偿", "离婚冷静期是多长时间"),  # wrong direct answer
    LabeledQuestion(3, "邻居装修噪音太大", 3),  # choices with the expected entry
    LabeledQuestion(4, "邻居装修噪音太大", 2),  # choices without it
    LabeledQuestion(5, "qqq xyzzy", 2),  # fallback
    LabeledQuestion(6, "被狗咬了找谁赔偿", None),  # out of scope, answered: the worst
    LabeledQuestion(7, "邻居装修噪音太大", None),  # out of scope, choices
    LabeledQuestion(8, "qqq xyzzy", None),  # out of scope, fallback
    LabeledQuestion(9, "xyzzy qqq", None),  # out of scope, fallback
]


def test_evaluate_counts_every_outcome() -> None:
    figures = evaluate(MatchIndex(ENTRIES), LABELED, resolver_for(ENTRIES))
    assert (figures.in_scope, figures.out_of_scope) == (5, 4)
    assert (
        figures.correct,
        figures.wrong,
        figures.choices_with_expected,
        figures.choices_without_expected,
        figures.fallback,
    ) == (1, 1, 1, 1, 1)
    assert (
        figures.out_of_scope_answered,
        figures.out_of_scope_choices,
        figures.out_of_scope_fallback,
    ) == (1, 1, 2)
    assert figures.percent("correct") == 20.0
    assert figures.percent("out_of_scope_fallback") == 50.0
    assert [(miss.line, miss.kind) for miss in figures.misses] == [
        (2, "wrong"),
        (3, "choices_with_expected"),
        (4, "choices_without_expected"),
        (5, "fallback"),
        (6, "out_of_scope_answered"),
    ]
    wrong = figures.misses[0]
    assert wrong.expected == 1
    assert wrong.candidates[0].entry_id == 2


def test_scope_counts_helped_wrong_direct_and_fallbacks() -> None:
    """By scope: a FAQ question no entry answers, answered directly, is wrong; so is an off-topic one."""
    questions = [
        LabeledQuestion(1, "离婚冷静期是多长时间", 1, True),  # helped: direct and right
        LabeledQuestion(2, "邻居装修噪音太大", 3, True),  # helped: choices include it
        LabeledQuestion(3, "被狗咬了找谁赔偿", 1, True),  # wrong direct
        LabeledQuestion(4, "被狗咬了找谁赔偿", None, True),  # gap answered: wrong direct
        LabeledQuestion(5, "qqq xyzzy", None, True),  # gap: fallback
        LabeledQuestion(6, "邻居装修噪音太大", 2),  # no faq flag, expect: FAQ scope, choices
        LabeledQuestion(7, "离婚冷静期是多长时间", None, False),  # off-topic answered
        LabeledQuestion(8, "xyzzy qqq", None),  # no faq flag, no expect: off-topic fallback
    ]
    figures = evaluate(MatchIndex(ENTRIES), questions, resolver_for(ENTRIES))
    faq, off_topic = figures.scope["faq"], figures.scope["off_topic"]
    assert (faq.total, faq.helped, faq.wrong_direct) == (6, 2, 2)
    assert (faq.choices_without_expected, faq.fallback) == (1, 1)
    assert (off_topic.total, off_topic.wrong_direct, off_topic.fallback) == (2, 1, 1)
    assert faq.percent("helped") == 33.3
    assert off_topic.percent("wrong_direct") == 50.0
    assert figures.wrong_direct_percent() == 37.5
    data = figures.as_dict()
    assert data["scope"]["faq"]["counts"]["helped"] == 2
    assert data["scope"]["off_topic"]["percent"]["fallback"] == 50.0
    assert data["wrong_direct_percent_of_all"] == 37.5
    report = format_report(figures)
    assert "应由问答解答6条：帮到（答对或选项中有正确条目）2（33.3%）" in report
    assert (
        "不属问答范围2条：直接回答（错误）1（50.0%），给出选项0（0.0%），兜底回复1（50.0%）"
        in report
    )
    assert "直接答错占全部问题：37.5%" in report


def test_figures_as_json_and_text() -> None:
    figures = evaluate(MatchIndex(ENTRIES), LABELED, resolver_for(ENTRIES))
    data = figures.as_dict()
    assert data["in_scope"]["counts"]["correct"] == 1
    assert data["in_scope"]["percent"]["wrong"] == 20.0
    assert data["out_of_scope"] == {
        "total": 4,
        "counts": {"answered": 1, "choices": 1, "fallback": 2},
        "percent": {"answered": 25.0, "choices": 25.0, "fallback": 50.0},
    }
    assert "misses" not in data
    assert [m["line"] for m in figures.as_dict(with_misses=True)["misses"]] == [2, 3, 4, 5, 6]
    report = format_report(figures)
    assert "直接答对：1（20.0%）" in report
    assert "直接回答（错误）：1（25.0%）" in report
    assert "未答对" not in report
    detailed = format_report(figures, {e.id or 0: e.question for e in ENTRIES})
    assert "第2行 [直接答错] “被狗咬了找谁赔偿” 应为 #1 离婚冷静期是多长时间" in detailed
    assert "#2 被狗咬了找谁赔偿（" in detailed


def test_empty_groups_give_zero_percent() -> None:
    figures = evaluate(MatchIndex(ENTRIES), LABELED[:1], resolver_for(ENTRIES))
    assert figures.percent("out_of_scope_answered") == 0.0
    assert figures.percent("correct") == 100.0


def test_expect_resolves_by_id_question_or_normalised_question() -> None:
    resolve = resolver_for(ENTRIES)
    assert resolve(2) == 2
    assert resolve("被狗咬了找谁赔偿") == 2
    assert resolve("  被狗咬了，找谁赔偿？ ") == 2
    assert resolve(99) is None
    assert resolve("没有这个问题") is None


@pytest.mark.parametrize("expect", [99, "没有这个问题"])
def test_unknown_expect_names_the_line(expect: int | str) -> None:
    questions = [LabeledQuestion(1, "离婚冷静期", 1), LabeledQuestion(7, "某个问题", expect)]
    with pytest.raises(EvaluationError, match="第7行"):
        evaluate(MatchIndex(ENTRIES), questions, resolver_for(ENTRIES))


def test_parse_labeled_lines() -> None:
    text = (
        '{"text": "离婚冷静期多久", "expect": 1}\n'
        "\n"
        '{"text": "今天天气怎么样", "expect": null}\n'
        '{"text": "被狗咬了", "expect": "被狗咬了找谁赔偿"}\n'
    )
    assert parse_labeled_lines(text) == [
        LabeledQuestion(1, "离婚冷静期多久", 1),
        LabeledQuestion(3, "今天天气怎么样", None),
        LabeledQuestion(4, "被狗咬了", "被狗咬了找谁赔偿"),
    ]


def test_parse_faq_and_part() -> None:
    text = (
        '{"text": "离婚冷静期多久", "expect": 1, "faq": true, "part": "tuning"}\n'
        '{"text": "公司增资要交什么费用", "expect": null, "faq": false, "part": "held-out"}\n'
        '{"text": "楼上漏水淹了我家", "expect": null, "faq": true, "source": "x.jsonl:3"}\n'
    )
    questions = parse_labeled_lines(text)
    assert questions == [
        LabeledQuestion(1, "离婚冷静期多久", 1, True, "tuning"),
        LabeledQuestion(2, "公司增资要交什么费用", None, False, "held-out"),
        LabeledQuestion(3, "楼上漏水淹了我家", None, True, None),
    ]
    assert [q.in_faq_scope for q in questions] == [True, False, True]
    assert [q.line for q in select_part(questions, "held-out")] == [2]
    with pytest.raises(EvaluationError, match="没有 part 为 held-out"):
        select_part(questions[:1], "held-out")
    with pytest.raises(EvaluationError, match="part 应为"):
        select_part(questions, "odd")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"text": "好", "expect": 1, "faq": "yes"}', "第1行的 faq"),
        ('{"text": "好", "expect": 1, "faq": false}', "第1行：faq 为 false"),
        ('{"text": "好", "expect": 1, "part": "odd"}', "第1行的 part"),
        ('{"text": "好", "expect": 1}\n{"text": "缺括号"', "第2行不是有效的 JSON"),
        ('["text", "expect"]', "第1行应为"),
        ('{"text": "没有 expect"}', "第1行应为"),
        ('{"text": "", "expect": 1}', "第1行的 text"),
        ('{"text": "好", "expect": true}', "第1行的 expect"),
        ('{"text": "好", "expect": [1]}', "第1行的 expect"),
        ("\n\n", "文件中没有问题"),
    ],
)
def test_bad_lines_are_named(text: str, message: str) -> None:
    with pytest.raises(EvaluationError, match=message):
        parse_labeled_lines(text)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match="找不到文件"):
        read_labeled_file(tmp_path / "nowhere.jsonl")


def write_lines(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text(
        "\n".join(json.dumps(item, ensure_ascii=False) for item in items), encoding="utf-8"
    )
    return path


@pytest.fixture
def distinct_entries(db: Database) -> list[int]:
    """Two published entries no shipped entry resembles, in the app's database."""
    records = [
        {
            "question": "宠物乌龟冬眠时要不要喂食",
            "alternates": ["乌龟冬眠喂不喂", "冬天乌龟不吃东西"],
            "answer": "宠物乌龟冬眠时不要喂食，乌龟冬眠期间消化很慢。",
        },
        {
            "question": "仙人掌多久浇一次水",
            "alternates": ["仙人掌浇水频率", "仙人掌要常浇水吗"],
            "answer": "仙人掌浇水要少，仙人掌一般两三周浇一次水。",
        },
    ]
    return [
        create_entry(
            db, entry_from_record({**r, "topic": "services", "status": "published"}), by="测试"
        )
        for r in records
    ]


def test_cli_eval_prints_figures_as_json(
    runner: FlaskCliRunner, distinct_entries: list[int], tmp_path: Path
) -> None:
    turtle, cactus = distinct_entries
    path = write_lines(
        tmp_path / "labeled.jsonl",
        [
            {"text": "宠物乌龟冬眠时要不要喂食", "expect": turtle},
            {"text": "仙人掌多久浇一次水", "expect": "仙人掌多久浇一次水"},
            {"text": "仙人掌多久浇一次水", "expect": turtle},
            {"text": "xyzzy qqq", "expect": None},
        ],
    )
    result = runner.invoke(args=["kb", "eval", str(path), "--json", "--show-errors"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["in_scope"]["total"] == 3
    assert data["in_scope"]["counts"]["correct"] == 2
    assert data["in_scope"]["counts"]["wrong"] == 1
    assert data["out_of_scope"]["counts"]["fallback"] == 1
    [miss] = data["misses"]
    assert (miss["line"], miss["kind"], miss["expected"]) == (3, "wrong", turtle)
    assert miss["candidates"][0]["id"] == cactus


def test_cli_eval_text_report_and_show_errors(
    runner: FlaskCliRunner, distinct_entries: list[int], tmp_path: Path
) -> None:
    turtle, _cactus = distinct_entries
    path = write_lines(
        tmp_path / "labeled.jsonl",
        [
            {"text": "宠物乌龟冬眠时要不要喂食", "expect": turtle},
            {"text": "仙人掌多久浇一次水", "expect": turtle},
        ],
    )
    plain = runner.invoke(args=["kb", "eval", str(path)])
    assert plain.exit_code == 0, plain.output
    assert "直接答对：1（50.0%）" in plain.output
    assert "未答对" not in plain.output
    detailed = runner.invoke(args=["kb", "eval", str(path), "--show-errors"])
    assert "第2行 [直接答错] “仙人掌多久浇一次水” 应为" in detailed.output
    assert "宠物乌龟冬眠时要不要喂食" in detailed.output


def test_cli_eval_one_part_by_scope(
    runner: FlaskCliRunner, distinct_entries: list[int], tmp_path: Path
) -> None:
    turtle, cactus = distinct_entries
    path = write_lines(
        tmp_path / "labeled.jsonl",
        [
            {"text": "宠物乌龟冬眠时要不要喂食", "expect": turtle, "faq": True, "part": "tuning"},
            {"text": "仙人掌多久浇一次水", "expect": cactus, "faq": True, "part": "held-out"},
            {"text": "xyzzy qqq", "expect": None, "faq": True, "part": "held-out"},
            {"text": "仙人掌多久浇一次水", "expect": None, "faq": False, "part": "held-out"},
        ],
    )
    result = runner.invoke(args=["kb", "eval", str(path), "--json", "--part", "held-out"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["scope"]["faq"]["total"] == 2
    assert data["scope"]["faq"]["counts"] == {
        "helped": 1,
        "wrong_direct": 0,
        "choices_without_expected": 0,
        "fallback": 1,
    }
    assert data["scope"]["off_topic"]["counts"]["wrong_direct"] == 1
    assert data["wrong_direct_percent_of_all"] == 33.3
    text = runner.invoke(args=["kb", "eval", str(path), "--part", "tuning"])
    assert text.exit_code == 0, text.output
    assert "应由问答解答1条：帮到（答对或选项中有正确条目）1（100.0%）" in text.output
    bad = runner.invoke(args=["kb", "eval", str(path), "--part", "odd"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_cli_eval_refuses_unknown_expect(
    runner: FlaskCliRunner, distinct_entries: list[int], tmp_path: Path
) -> None:
    path = write_lines(
        tmp_path / "labeled.jsonl",
        [
            {"text": "宠物乌龟冬眠时要不要喂食", "expect": distinct_entries[0]},
            {"text": "仙人掌", "expect": "根本没有这个条目"},
        ],
    )
    result = runner.invoke(args=["kb", "eval", str(path)])
    assert result.exit_code != 0
    assert "第2行" in result.output and "根本没有这个条目" in result.output
    assert "Traceback" not in result.output
    missing = runner.invoke(args=["kb", "eval", str(tmp_path / "nowhere.jsonl")])
    assert missing.exit_code != 0 and "找不到文件" in missing.output
