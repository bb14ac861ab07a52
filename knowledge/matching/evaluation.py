"""Score the matcher on a labeled question file: how often it answers right, wrong, or not at all.

The file holds one JSON object per line: ``{"text": "离婚要等多久", "expect": 12}``, where
``expect`` is the id or the standard question of the entry that should answer, or ``null``
for a question the knowledge base does not cover (which must never be answered directly).

A line may also say ``"faq": true | false`` — whether a residents' legal FAQ should answer
it at all (a question with an ``expect`` is one; a question with ``expect: null`` may be one
the knowledge base lacks) — and ``"part": "tuning" | "held-out"``, the half of a set it
belongs to. Without ``faq``, a question is in the FAQ's scope exactly when it has an
``expect``. The scope figures count **helped** (answered directly and right, or given
choices that include the right entry), **wrong direct** answers and fallbacks.
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


#: The halves a labeled set may be split into; a line may also name none.
HALVES = ("tuning", "held-out")


class EvaluationError(ValueError):
    """A labeled file that cannot be scored; the message names the line."""


class Matcher(Protocol):
    """Anything that decides a band for a message, like :class:`knowledge.matching.matcher.MatchIndex`."""

    def match(self, text: str) -> Match:
        """The band and the best candidates for ``text``."""
        ...


@dataclass(frozen=True)
class LabeledQuestion:
    """One line of a labeled file: what a resident asks and which entry should answer.

    ``faq`` is whether a residents' FAQ should answer it (None: it should when ``expect``
    names an entry); ``part`` names the half of the set the line belongs to, if any.
    """

    line: int
    text: str
    expect: int | str | None
    faq: bool | None = None
    part: str | None = None

    @property
    def in_faq_scope(self) -> bool:
        """Whether a residents' FAQ should answer this question."""
        return self.expect is not None if self.faq is None else self.faq


@dataclass(frozen=True)
class Miss:
    """A question the matcher did not answer as labeled, with what it offered instead."""

    line: int
    text: str
    kind: str
    expected: int | None
    candidates: tuple[Candidate, ...]


#: The scopes a question can be in, as staff read them.
SCOPES = {"faq": "应由问答解答", "off_topic": "不属问答范围"}
#: What the scope figures count, as staff read them.
SCOPE_OUTCOMES = {
    "helped": "帮到（答对或选项中有正确条目）",
    "wrong_direct": "直接答错",
    "choices_without_expected": "选项中无正确条目",
    "fallback": "兜底回复",
}
#: The counts the report shows for each scope: an off-topic question cannot be helped.
SCOPE_LABELS = {
    "faq": SCOPE_OUTCOMES,
    "off_topic": {
        "wrong_direct": "直接回答（错误）",
        "choices_without_expected": "给出选项",
        "fallback": "兜底回复",
    },
}


#: Which scope count each outcome adds to (the rest are fallbacks).
_SCOPE_COUNT = {
    "correct": "helped",
    "choices_with_expected": "helped",
    "wrong": "wrong_direct",
    "out_of_scope_answered": "wrong_direct",
    "choices_without_expected": "choices_without_expected",
    "out_of_scope_choices": "choices_without_expected",
}


@dataclass
class ScopeFigures:
    """The counts for one scope: questions a FAQ should answer, or off-topic ones.

    Any direct answer to a question no entry answers is wrong; so is an off-topic one.
    """

    total: int = 0
    helped: int = 0
    wrong_direct: int = 0
    choices_without_expected: int = 0
    fallback: int = 0

    def percent(self, name: str) -> float:
        """One count as a percentage of this scope's questions (0 when there are none)."""
        return round(100 * getattr(self, name) / self.total, 1) if self.total else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The counts and percentages as plain data."""
        return {
            "total": self.total,
            "counts": {name: getattr(self, name) for name in SCOPE_OUTCOMES},
            "percent": {name: self.percent(name) for name in SCOPE_OUTCOMES},
        }


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
    scope: dict[str, ScopeFigures] = field(
        default_factory=lambda: {"faq": ScopeFigures(), "off_topic": ScopeFigures()}
    )
    misses: list[Miss] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many questions were scored."""
        return self.in_scope + self.out_of_scope

    def wrong_direct_percent(self) -> float:
        """Wrong direct answers (in either scope) as a percentage of all questions."""
        wrong = sum(figures.wrong_direct for figures in self.scope.values())
        return round(100 * wrong / self.total, 1) if self.total else 0.0

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
            "scope": {name: figures.as_dict() for name, figures in self.scope.items()},
            "wrong_direct_percent_of_all": self.wrong_direct_percent(),
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
        faq, part = item.get("faq"), item.get("part")
        if not isinstance(question, str) or not question.strip():
            raise EvaluationError(f"第{number}行的 text 应为非空文字")
        if isinstance(expect, bool) or not isinstance(expect, int | str | None):
            raise EvaluationError(f"第{number}行的 expect 应为条目编号、问题文字或 null")
        if not isinstance(faq, bool | None):
            raise EvaluationError(f"第{number}行的 faq 应为 true 或 false")
        if faq is False and expect is not None:
            raise EvaluationError(f"第{number}行：faq 为 false 的问题不应有 expect")
        if part is not None and part not in HALVES:
            raise EvaluationError(f"第{number}行的 part 应为 {' 或 '.join(HALVES)}")
        questions.append(LabeledQuestion(number, question, expect, faq, part))
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


def select_part(questions: Sequence[LabeledQuestion], part: str) -> list[LabeledQuestion]:
    """The questions of one half of a set; :class:`EvaluationError` if it has none."""
    if part not in HALVES:
        raise EvaluationError(f"part 应为 {' 或 '.join(HALVES)}：{part!r}")
    chosen = [question for question in questions if question.part == part]
    if not chosen:
        raise EvaluationError(f"文件中没有 part 为 {part} 的问题")
    return chosen


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
        _count_scope(figures.scope["faq" if question.in_faq_scope else "off_topic"], outcome)
        if entry_id is None:
            figures.out_of_scope += 1
        else:
            figures.in_scope += 1
        if outcome in MISSES:
            figures.misses.append(
                Miss(question.line, question.text, outcome, entry_id, match.candidates)
            )
    return figures


def _count_scope(figures: ScopeFigures, outcome: str) -> None:
    """Add one question's outcome to its scope's counts."""
    figures.total += 1
    name = _SCOPE_COUNT.get(outcome, "fallback")
    setattr(figures, name, getattr(figures, name) + 1)


def _outcome(match: Match, expected: int | None) -> str:
    """Which of :data:`OUTCOMES` a match is, for a question expecting ``expected``."""
    if expected is None:
        return f"out_of_scope_{'answered' if match.band == 'answer' else match.band}"
    if match.band == "answer":
        return "correct" if match.candidates[0].entry_id == expected else "wrong"
    if match.band == "choices":
        offered = {candidate.entry_id for candidate in match.options}
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
    lines.append("按是否应由问答解答：")
    for scope, title in SCOPES.items():
        scoped = figures.scope[scope]
        counts = "，".join(
            f"{label}{getattr(scoped, name)}（{scoped.percent(name)}%）"
            for name, label in SCOPE_LABELS[scope].items()
        )
        lines.append(f"  {title}{scoped.total}条：{counts}")
    lines.append(f"  直接答错占全部问题：{figures.wrong_direct_percent()}%")
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
