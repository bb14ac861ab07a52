"""The shipped matcher on the shipped labeled set against the quality targets of issue 15.

The labeled questions (tests/eval/questions.jsonl) were written independently of the
entries' alternates, and the thresholds were calibrated without them (knowledge/matching/calibration.py),
so this measures the matcher on questions it was not tuned on.
"""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest
from sqlite_utils import Database

from knowledge.db import connect
from knowledge.matching.evaluation import Figures, evaluate, read_labeled_file, resolver_for
from knowledge.matching.live_index import current_index
from knowledge.store import published_entries
from tests.conftest import copy_database

LABELED = Path(__file__).parent / "eval" / "questions.jsonl"


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Figures:
    """The evaluation of the shipped knowledge base on the labeled set."""
    path = copy_database(seeded_database, tmp_path_factory.mktemp("quality") / "pufa.sqlite3")
    db: Database = connect(path)
    try:
        index = current_index(db, str(path))
        return evaluate(index, read_labeled_file(LABELED), resolver_for(published_entries(db)))
    finally:
        db.close()


def test_the_labeled_set_is_large_and_varied() -> None:
    lines = [json.loads(line) for line in LABELED.read_text(encoding="utf-8").splitlines()]
    styles = collections.Counter(line["style"] for line in lines)
    assert sum(line["expect"] is not None for line in lines) >= 300
    assert styles["out_of_scope"] >= 50
    for style in (
        "paraphrase",
        "colloquial",
        "context",
        "typo",
        "homophone",
        "traditional",
        "voice",
    ):
        assert styles[style] >= 8, style


def test_direct_answers_are_right_at_least_90_percent(figures: Figures) -> None:
    assert figures.correct / figures.in_scope >= 0.90


@pytest.mark.xfail(
    strict=True, reason="issue 15's target, not met: 90.9% with the semantic opinion (README)"
)
def test_direct_answers_are_right_at_least_95_percent(figures: Figures) -> None:
    assert figures.correct / figures.in_scope >= 0.95


def test_wrong_direct_answers_stay_under_half_a_percent(figures: Figures) -> None:
    assert figures.wrong / figures.in_scope <= 0.005


def test_out_of_scope_questions_are_answered_at_most_3_percent(figures: Figures) -> None:
    assert figures.out_of_scope_answered / figures.out_of_scope <= 0.03
