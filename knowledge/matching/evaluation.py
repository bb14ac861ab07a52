"""Score the matcher on a labeled question file: how often it answers right, wrong, or not at all.

The file holds one JSON object per line: ``{"text": "离婚要等多久", "expect": 12}``, where
``expect`` is the id or the standard question of the entry that should answer, or ``null``
for a question the knowledge base does not cover (which must never be answered directly).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from knowledge.entries import Entry
from knowledge.matching.matcher import Candidate, Match
from knowledge.matching.normalize import clean_text

#: Every outcome a question can have, as staff read it; figures count each of them.
OUTCOMES = {
    "correct": "直接答对",
    "wrong": "直接答错",
    "choices_with_expected": "选项中有正确条目",
    "choices_without_expected": "选项中无正确条目",
    "fallback": "兜底回复",
    "out_of_scope_answered": "直接回答（错误）",
    "out_of_scope_choices": "给出选项",
    "out_of_scope_fallback": "兜底回复",
}
IN_SCOPE_OUTCOMES = tuple(name for name in OUTCOMES if not name.startswith("out_of_scope"))
OUT_OF_SCOPE_OUTCOMES = tuple(name for name in OUTCOMES if name.startswith("out_of_scope"))
#: The outcomes ``--show-errors`` lists: anything but a right answer or a proper refusal.
MISSES = (
    "wrong",
    "choices_with_expected",
    "choices_without_expected",
    "fallback",
    "out_of_scope_answered",
)


class EvaluationError(ValueError):
    """A labeled file that cannot be scored; the message names the line."""


class Matcher(Protocol):
    """Anything that decides a band for a message, like :class:`knowledge.matching.matcher.MatchIndex`."""

    def match(self, text: str) -> Match:
        """The band and the best candidates for ``text``."""
        ...


@dataclass(frozen=True)
class LabeledQuestion:
    """One line of a labeled file: what a resident asks and which entry should answer."""

    line: int
    text: str
    expect: int | str | None


@dataclass(frozen=True)
class Miss:
    """A question the matcher did not answer as labeled, with what it offered instead."""

    line: int
    text: str
    kind: str
    expected: int | None
    candidates: tuple[Candidate, ...]


@dataclass
class Figures:
    """The counts an evaluation produces; percentages are of in-scope or out-of-scope totals."""

    in_scope: int = 0
    correct: int = 0
    wrong: int = 0
    choices_with_expected: int = 0
    choices_without_expected: int = 0
    fallback: int = 0
    out_of_scope: int = 0
    out_of_scope_answered: int = 0
    out_of_scope_choices: int = 0
    out_of_scope_fallback: int = 0
    misses: list[Miss] = field(default_factory=list)

    def percent(self, name: str) -> float:
        """One count as a percentage of its group's total (0 when the group is empty)."""
        total = self.in_scope if name in IN_SCOPE_OUTCOMES else self.out_of_scope
        return round(100 * getattr(self, name) / total, 1) if total else 0.0

    def as_dict(self, with_misses: bool = False) -> dict[str, Any]:
        """The figures as plain data (for ``--json``), misses included on request."""
        data: dict[str, Any] = {
            "in_scope": {
                "total": self.in_scope,
                "counts": {name: getattr(self, name) for name in IN_SCOPE_OUTCOMES},
                "percent": {name: self.percent(name) for name in IN_SCOPE_OUTCOMES},
            },
            "out_of_scope": {
                "total": self.out_of_scope,
                "counts": {
                    name.removeprefix("out_of_scope_"): getattr(self, name)
                    for name in OUT_OF_SCOPE_OUTCOMES
                },
                "percent": {
                    name.removeprefix("out_of_scope_"): self.percent(name)
                    for name in OUT_OF_SCOPE_OUTCOMES
                },
            },
        }
        if with_misses:
            data["misses"] = [
                {
                    "line": miss.line,
                    "text": miss.text,
                    "kind": miss.kind,
                    "expected": miss.expected,
                    "candidates": [
                        {"id": c.entry_id, "question": c.question, "score": c.score}
                        for c in miss.candidates
                    ],
                }
                for miss in self.misses
            ]
        return data


def parse_labeled_lines(text: str) -> list[LabeledQuestion]:
    """The questions of a labeled file's text; :class:`EvaluationError` names a bad line."""
    questions: list[LabeledQuestion] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise EvaluationError(f"第{number}行不是有效的 JSON：{error.msg}") from None
        if not isinstance(item, dict) or "text" not in item or "expect" not in item:
            raise EvaluationError(f'第{number}行应为 {{"text": …, "expect": …}} 形式的对象')
        question, expect = item["text"], item["expect"]
        if not isinstance(question, str) or not question.strip():
            raise EvaluationError(f"第{number}行的 text 应为非空文字")
        if isinstance(expect, bool) or not isinstance(expect, int | str | None):
            raise EvaluationError(f"第{number}行的 expect 应为条目编号、问题文字或 null")
        questions.append(LabeledQuestion(number, question, expect))
    if not questions:
        raise EvaluationError("文件中没有问题")
    return questions


def read_labeled_file(path: Path) -> list[LabeledQuestion]:
    """Read a labeled JSON-lines file; :class:`EvaluationError` if it is missing or malformed."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise EvaluationError(f"找不到文件：{path}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise EvaluationError(f"无法读取文件 {path}：{error}") from None
    return parse_labeled_lines(text)


def resolver_for(entries: Sequence[Entry]) -> Callable[[int | str], int | None]:
    """Map an ``expect`` value (entry id or standard question) to an entry id, or None."""
    ids = {entry.id for entry in entries}
    by_question: dict[str, int] = {}
    for entry in entries:
        assert entry.id is not None
        by_question.setdefault(entry.question, entry.id)
        by_question.setdefault(clean_text(entry.question), entry.id)

    def resolve(expect: int | str) -> int | None:
        if isinstance(expect, int):
            return expect if expect in ids else None
        return by_question.get(expect.strip()) or by_question.get(clean_text(expect))

    return resolve


def evaluate(
    index: Matcher,
    questions: Sequence[LabeledQuestion],
    resolve: Callable[[int | str], int | None],
) -> Figures:
    """Match every question and count the outcomes.

    Every ``expect`` is resolved first, so an unknown one raises :class:`EvaluationError`
    (naming its line) before any matching is done.
    """
    expected: list[int | None] = []
    for question in questions:
        if question.expect is None:
            expected.append(None)
            continue
        entry_id = resolve(question.expect)
        if entry_id is None:
            raise EvaluationError(
                f"第{question.line}行：expect {question.expect!r} 没有对应的已发布条目"
            )
        expected.append(entry_id)
    figures = Figures()
    for question, entry_id in zip(questions, expected, strict=True):
        match = index.match(question.text)
        outcome = _outcome(match, entry_id)
        setattr(figures, outcome, getattr(figures, outcome) + 1)
        if entry_id is None:
            figures.out_of_scope += 1
        else:
            figures.in_scope += 1
        if outcome in MISSES:
            figures.misses.append(
                Miss(question.line, question.text, outcome, entry_id, match.candidates)
            )
    return figures


def _outcome(match: Match, expected: int | None) -> str:
    """Which of :data:`OUTCOMES` a match is, for a question expecting ``expected``."""
    if expected is None:
        return f"out_of_scope_{'answered' if match.band == 'answer' else match.band}"
    if match.band == "answer":
        return "correct" if match.candidates[0].entry_id == expected else "wrong"
    if match.band == "choices":
        offered = {candidate.entry_id for candidate in match.candidates}
        return "choices_with_expected" if expected in offered else "choices_without_expected"
    return "fallback"


def format_report(figures: Figures, questions: dict[int, str] | None = None) -> str:
    """The figures as staff read them; with ``questions`` (id → question), the misses too."""
    lines = [
        f"共{figures.in_scope + figures.out_of_scope}条问题："
        f"范围内{figures.in_scope}条，范围外{figures.out_of_scope}条。"
    ]
    for title, names in (("范围内：", IN_SCOPE_OUTCOMES), ("范围外：", OUT_OF_SCOPE_OUTCOMES)):
        lines.append(title)
        lines.extend(
            f"  {OUTCOMES[name]}：{getattr(figures, name)}（{figures.percent(name)}%）"
            for name in names
        )
    if questions is not None:
        lines.append(f"未答对的问题（{len(figures.misses)}条）：")
        for miss in figures.misses:
            expected = (
                f"应为 #{miss.expected} {questions.get(miss.expected, '')}"
                if miss.expected is not None
                else "应兜底"
            )
            offered = "；".join(
                f"#{c.entry_id} {c.question}（{c.score:.2f}）" for c in miss.candidates
            )
            lines.append(f"  第{miss.line}行 [{OUTCOMES[miss.kind]}] “{miss.text}” {expected}")
            lines.append(f"    候选：{offered or '无'}")
    return "\n".join(lines)
