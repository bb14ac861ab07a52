"""The 250 real consultations in tests/eval/real_questions.jsonl: labeled, split, and scored.

Every line names its source (the reference file and line), says whether a residents'
FAQ should answer it (``faq``) and, if an entry does, which (``expect``); odd source lines
are the tuning half, even ones the held-out half. The figures are checked against the
caps of issue 10 that the shipped matcher must keep on real questions: wrong direct
answers at most 3% of all, off-topic ones answered directly at most 5%.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from knowledge.db import connect
from knowledge.matching.evaluation import (
    Figures,
    LabeledQuestion,
    evaluate,
    read_labeled_file,
    resolver_for,
    select_part,
)
from knowledge.matching.live_index import current_index
from knowledge.store import published_entries
from tests.conftest import copy_database

REAL = Path(__file__).parent / "eval" / "real_questions.jsonl"
REFERENCE = "shared/reference/residents_questions.jsonl"
SOURCE = re.compile(rf"^{re.escape(REFERENCE)}:(\d+) \(")


@pytest.fixture(scope="module")
def questions() -> list[LabeledQuestion]:
    """The labeled real consultations."""
    return read_labeled_file(REAL)


@pytest.fixture(scope="module")
def seeded(
    tmp_path_factory: pytest.TempPathFactory, seeded_database: Path
) -> Iterator[tuple[Database, str]]:
    """A freshly seeded database with the shipped knowledge base, and its path."""
    path = copy_database(seeded_database, tmp_path_factory.mktemp("real") / "pufa.sqlite3")
    db = connect(path)
    yield db, str(path)
    db.close()


def test_every_consultation_is_labeled_once_with_its_source(
    questions: list[LabeledQuestion],
) -> None:
    lines = [json.loads(line) for line in REAL.read_text(encoding="utf-8").splitlines()]
    numbers = [int(SOURCE.match(line["source"])[1]) for line in lines]
    assert numbers == list(range(1, 251))
    assert all(isinstance(line["faq"], bool) for line in lines)
    assert sum(question.in_faq_scope for question in questions) >= 150


def test_halves_are_split_by_source_line_parity(questions: list[LabeledQuestion]) -> None:
    tuning, held_out = select_part(questions, "tuning"), select_part(questions, "held-out")
    assert len(tuning) == len(held_out) == 125
    assert all(question.line % 2 == 1 for question in tuning)
    assert all(question.line % 2 == 0 for question in held_out)


def test_every_expected_entry_is_shipped(
    questions: list[LabeledQuestion], seeded: tuple[Database, str]
) -> None:
    resolve = resolver_for(published_entries(seeded[0]))
    unknown = [q.line for q in questions if q.expect is not None and resolve(q.expect) is None]
    assert not unknown, f"lines whose expect names no shipped entry: {unknown}"


@pytest.mark.parametrize("part", [None, "tuning", "held-out"])
def test_real_questions_keep_the_caps(
    questions: list[LabeledQuestion], seeded: tuple[Database, str], part: str | None
) -> None:
    db, path = seeded
    chosen = questions if part is None else select_part(questions, part)
    figures: Figures = evaluate(
        current_index(db, path), chosen, resolver_for(published_entries(db))
    )
    assert figures.wrong_direct_percent() <= 3.0
    assert figures.scope["off_topic"].percent("wrong_direct") <= 5.0


@pytest.fixture(scope="module")
def held_out(questions: list[LabeledQuestion], seeded: tuple[Database, str]) -> Figures:
    """The figures of the held-out half."""
    db, path = seeded
    return evaluate(
        current_index(db, path),
        select_part(questions, "held-out"),
        resolver_for(published_entries(db)),
    )


def test_the_held_out_half_is_answered_directly_and_right_for_30_percent(held_out: Figures) -> None:
    faq = held_out.scope["faq"]
    assert held_out.correct / faq.total >= 0.30


def test_the_held_out_half_is_answered_wrong_at_most_2_percent(held_out: Figures) -> None:
    assert held_out.wrong_direct_percent() <= 2.0


@pytest.mark.xfail(
    strict=True, reason="issue 15's target, not met: 64.9% helped with the semantic opinion"
)
def test_the_held_out_half_is_helped_for_75_percent(held_out: Figures) -> None:
    assert held_out.scope["faq"].percent("helped") >= 75.0
