"""Choose the matcher's band thresholds from data that is not the labeled test set.

In-scope evidence comes from the entries themselves: fold *k* holds out every entry's
*k*-th alternate, builds the index without them, and asks each held-out alternate.
Out-of-scope evidence comes from ``knowledge/matching/calibration_data/out_of_scope.txt``, questions
no entry answers, and ``long_out_of_scope.txt``, long stories no entry answers. The
thresholds that answer the most held-out alternates directly while keeping wrong answers
and answered out-of-scope questions under their caps are chosen — once for short
messages, and once, on their own, for long ones (whose question clauses the matcher sets
apart; :mod:`knowledge.matching.clauses`). The labeled sets in tests/eval then measure
the result on questions neither step saw.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from knowledge.entries import Entry
from knowledge.matching.matcher import Match, MatchIndex, Thresholds

OUT_OF_SCOPE_FILE = Path(__file__).parent / "calibration_data" / "out_of_scope.txt"
LONG_OUT_OF_SCOPE_FILE = Path(__file__).parent / "calibration_data" / "long_out_of_scope.txt"
# Share of the long out-of-scope stories that must reach the fallback (the rest see choices).
LONG_OUT_OF_SCOPE_FALLBACK = 0.7
# Share of the long out-of-scope stories that may be answered directly (short ones: 5%).
LONG_MAX_OUT_OF_SCOPE = 0.03
# A long message is answered directly only when its best entry explains at least this
# much more of it than the runner-up: a lead in score alone is not enough, because a
# long story shares some words with many entries.
LONG_MIN_DISTINCT = 0.1


@dataclass(frozen=True)
class Observation:
    """What the matcher saw for one calibration question."""

    best: float
    runner_up: float
    distinct: float
    in_scope: bool
    top_is_right: bool
    long: bool = False  # a long message, banded by the long-message thresholds
    settled: bool = False  # a long message answered on the whole of it, whatever they are


@dataclass(frozen=True)
class Calibration:
    """Chosen thresholds and how they did on the calibration data."""

    thresholds: Thresholds
    in_scope: int
    out_of_scope: int
    direct_correct: float
    direct_wrong: float
    out_of_scope_answered: float
    out_of_scope_fallback: float


def _observe(match: Match, expected: int | None) -> Observation:
    candidates = match.candidates
    return Observation(
        best=candidates[0].score if candidates else 0.0,
        runner_up=candidates[1].score if len(candidates) > 1 else 0.0,
        distinct=match.distinct,
        in_scope=expected is not None,
        top_is_right=bool(candidates) and candidates[0].entry_id == expected,
        long=match.long,
        settled=match.settled,
    )


def observe(
    entries: Sequence[Entry], synonyms: Sequence[list[str]], out_of_scope: Sequence[str]
) -> list[Observation]:
    """Leave-one-alternate-out observations for every entry, plus the out-of-scope ones."""
    observations: list[Observation] = []
    folds = max((len(entry.alternates) for entry in entries), default=0)
    for fold in range(folds):
        held_out = [
            replace(entry, alternates=[a for k, a in enumerate(entry.alternates) if k != fold])
            for entry in entries
        ]
        index = MatchIndex(held_out, synonyms)
        for entry in entries:
            if fold < len(entry.alternates):
                observations.append(_observe(index.match(entry.alternates[fold]), entry.id))
    index = MatchIndex(entries, synonyms)
    observations.extend(_observe(index.match(text), None) for text in out_of_scope)
    return observations


class _Table:
    """Observations as arrays, so thousands of threshold choices can be tried quickly."""

    def __init__(self, observations: Sequence[Observation]) -> None:
        self.best = np.array([o.best for o in observations])
        self.runner_up = np.array([o.runner_up for o in observations])
        self.distinct = np.array([o.distinct for o in observations])
        self.inside = np.array([o.in_scope for o in observations], dtype=bool)
        self.right = np.array([o.top_is_right for o in observations], dtype=bool)
        self.settled = np.array([o.settled for o in observations], dtype=bool)
        self.n_inside = max(int(self.inside.sum()), 1)
        self.n_outside = max(int((~self.inside).sum()), 1)

    def figures(self, t: Thresholds) -> tuple[float, float, float, float]:
        """Direct correct, direct wrong (of in-scope); answered, fallback (of out-of-scope)."""
        plausible = self.settled | (self.best >= t.choices)
        answered = self.settled | (
            plausible
            & (self.best >= t.answer)
            & (self.best - t.runner_up_weight * self.runner_up >= t.lead)
            & (self.distinct >= t.distinct)
        )
        return (
            float((answered & self.inside & self.right).sum()) / self.n_inside,
            float((answered & self.inside & ~self.right).sum()) / self.n_inside,
            float((answered & ~self.inside).sum()) / self.n_outside,
            float((~plausible & ~self.inside).sum()) / self.n_outside,
        )


def choose_thresholds(
    observations: Sequence[Observation],
    max_wrong: float = 0.02,
    max_out_of_scope: float = 0.05,
    out_of_scope_fallback: float = 0.8,
    min_distinct: float = 0.0,
) -> Calibration:
    """The thresholds with the most direct correct answers within both caps, answering
    only when the best entry explains at least ``min_distinct`` more than the runner-up.

    The choices threshold is then the lowest that still sends ``out_of_scope_fallback``
    of the out-of-scope questions to the fallback (the rest see numbered choices).
    """
    table = _Table(observations)
    best: tuple[float, Thresholds] | None = None
    for answer, lead, distinct in itertools.product(
        np.arange(0.15, 0.5, 0.025), np.arange(0.0, 0.3, 0.01), np.arange(min_distinct, 0.3, 0.02)
    ):
        thresholds = Thresholds(
            answer=round(float(answer), 3),
            lead=round(float(lead), 3),
            distinct=round(float(distinct), 3),
            choices=0.0,
        )
        correct, wrong, answered, _ = table.figures(thresholds)
        if (
            wrong <= max_wrong
            and answered <= max_out_of_scope
            and (best is None or correct > best[0])
        ):
            best = (correct, thresholds)
    if best is None:
        raise ValueError("no thresholds meet the caps on this data")
    chosen = best[1]
    outside = sorted(o.best for o in observations if not o.in_scope and not o.settled)
    if outside:
        cut = outside[min(int(len(outside) * out_of_scope_fallback), len(outside) - 1)]
        chosen = replace(chosen, choices=round(float(cut), 3))
    return measure(observations, chosen)


def measure(observations: Sequence[Observation], thresholds: Thresholds) -> Calibration:
    """How ``thresholds`` do on the calibration observations."""
    correct, wrong, answered, fallback = _Table(observations).figures(thresholds)
    return Calibration(
        thresholds=thresholds,
        in_scope=sum(o.in_scope for o in observations),
        out_of_scope=sum(not o.in_scope for o in observations),
        direct_correct=correct,
        direct_wrong=wrong,
        out_of_scope_answered=answered,
        out_of_scope_fallback=fallback,
    )


def by_length(observations: Sequence[Observation]) -> tuple[list[Observation], list[Observation]]:
    """The observations of short messages and those of long ones, each calibrated alone."""
    return [o for o in observations if not o.long], [o for o in observations if o.long]


def calibrate(
    observations: Sequence[Observation],
    max_wrong: float = 0.02,
    max_out_of_scope: float = 0.05,
    long_max_out_of_scope: float = LONG_MAX_OUT_OF_SCOPE,
) -> tuple[Calibration, Calibration]:
    """Thresholds for short messages and, on their own, for long ones.

    A long story that fits no entry is given choices more often than a short question
    (``LONG_OUT_OF_SCOPE_FALLBACK``): its question is harder to tell from one an entry
    answers, and choices cost a resident less than a fallback when one of them fits. For
    the same reason fewer of them may be answered directly (``long_max_out_of_scope``).
    """
    short, long = by_length(observations)
    return (
        choose_thresholds(short, max_wrong, max_out_of_scope),
        choose_thresholds(
            long, max_wrong, long_max_out_of_scope, LONG_OUT_OF_SCOPE_FALLBACK, LONG_MIN_DISTINCT
        ),
    )


def load_out_of_scope(path: Path = OUT_OF_SCOPE_FILE) -> list[str]:
    """The out-of-scope calibration questions (or stories), one per line."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
