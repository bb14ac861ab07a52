"""The shipped knowledge base and the labeled questions, as the benchmarks use them."""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench.common import ROOT
from knowledge.entries import Entry, entry_from_record
from knowledge.matching.evaluation import EvaluationError, read_labeled_file, resolver_for
from knowledge.seed import SYNONYMS_FILE, shipped_records

LABELED_FILE = ROOT / "tests" / "eval" / "questions.jsonl"


@dataclass(frozen=True)
class Query:
    """A labeled question: the text a resident sent and the entry it asks about (None: none)."""

    text: str
    expect: int | None


def shipped_knowledge() -> tuple[list[Entry], list[list[str]]]:
    """The shipped entries, with the ids a freshly seeded database gives them, and synonyms."""
    entries = []
    for entry_id, (_source, record) in enumerate(shipped_records(), start=1):
        entry = entry_from_record(record, default_status="published")
        entry.id = entry_id
        entries.append(entry)
    synonyms = yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8")) or []
    return entries, synonyms


def labeled_files(requested: Sequence[str] | None) -> list[Path]:
    """The labeled files to use: those asked for, else questions.jsonl, else tests/eval/*.jsonl."""
    if requested:
        return [Path(name) for name in requested]
    if LABELED_FILE.exists():
        return [LABELED_FILE]
    return sorted(LABELED_FILE.parent.glob("*.jsonl"))


def _shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def load_queries(
    entries: list[Entry], requested: Sequence[str] | None = None
) -> tuple[list[Query], str, int]:
    """The labeled questions, a note on where they came from, and how many were unresolved.

    ``requested`` names the files; by default see :func:`labeled_files`. Files are read and ``expect`` resolved exactly as ``flask kb eval`` does (an entry id or
    an entry's standard question; null = out of scope); an ``expect`` naming no entry is
    skipped and counted. Without any labeled file the shipped alternates stand in, and the
    note says so. Raises :class:`knowledge.matching.evaluation.EvaluationError` for a malformed file.
    """
    paths = labeled_files(requested)
    if not paths:
        queries = [
            Query(alternate, entry.id) for entry in entries for alternate in entry.alternates
        ]
        note = (
            f"no labeled file ({_shown(LABELED_FILE)}) found: the shipped alternates stand in "
            "as queries (they are indexed verbatim, so accuracy is flattering; "
            "no out-of-scope questions)"
        )
        return queries, note, 0
    resolve = resolver_for(entries)
    queries: list[Query] = []
    unresolved = 0
    for path in paths:
        try:
            labeled = read_labeled_file(path)
        except EvaluationError as error:
            raise EvaluationError(f"{_shown(path)}: {error}") from None
        for question in labeled:
            if question.expect is None:
                queries.append(Query(question.text, None))
                continue
            entry_id = resolve(question.expect)
            if entry_id is None:
                unresolved += 1
            else:
                queries.append(Query(question.text, entry_id))
    note = f"{', '.join(_shown(path) for path in paths)}: {len(queries)} labeled questions"
    if not requested and LABELED_FILE not in paths:
        note = f"{_shown(LABELED_FILE)} not found, using {note}"
    return queries, note, unresolved


def sample(items: list, count: int | None, seed: int) -> list:
    """A seeded sample of ``count`` items in their original order (all of them if None)."""
    if count is None or count >= len(items):
        return list(items)
    chosen = sorted(random.Random(seed).sample(range(len(items)), count))
    return [items[position] for position in chosen]


def add_labeled_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--labeled FILE …`` option every benchmark that asks questions takes."""
    parser.add_argument(
        "--labeled",
        nargs="+",
        help="JSON-lines labeled files (default: tests/eval/questions.jsonl)",
    )


def load_queries_or_report(
    entries: list[Entry], requested: Sequence[str] | None
) -> tuple[list[Query], str, int] | None:
    """:func:`load_queries`, or None after saying on stderr why the files cannot be read."""
    try:
        return load_queries(entries, requested)
    except EvaluationError as error:
        print(f"cannot read the labeled questions: {error}", file=sys.stderr)
        return None
