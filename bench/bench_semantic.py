"""What the semantic second opinion costs, at the shipped size, each figure with its baseline.

In a fresh process (so nothing is memoised): the model's load, the embedding of every
shipped phrasing (per phrasing, and projected to the ~950,000 phrasings of 100,000
entries), a rebuild after one edit (one phrasing re-embedded), matching the labeled
questions with the opinion against the lexical matcher alone (the baseline), how often
the gate embedded a message, and the memory the vectors take per worker at 100,000
entries as float32, float16 and int8 (float16 is what the index holds; a memory-mapped
file would be shared by the workers, not copied — not built yet).

``--sizes`` also times matching at larger sizes (the shipped entries plus
``bench/distractors.py``), with the distractors' vectors embedded once and kept in
``bench/results/semantic_vectors.sqlite3`` for later runs.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from typing import Any

from bench.common import ROOT, machine, machine_line, summary_ms, write_json
from bench.distractors import padded_entries
from bench.knowledge_base import (
    add_labeled_argument,
    load_queries_or_report,
    sample,
    shipped_knowledge,
)
from knowledge.db import connect, migrate
from knowledge.matching import semantic
from knowledge.matching.matcher import MatchIndex
from knowledge.matching.vector_cache import DatabaseVectorCache
from knowledge.schema import migrations

VECTOR_FILE = ROOT / "bench" / "results" / "semantic_vectors.sqlite3"

PHRASINGS_AT_100K = 950_000  # ~9.5 phrasings per entry, as the shipped base has


def _timed(index: MatchIndex, texts: list[str], rounds: int) -> list[float]:
    """Milliseconds per match, ``rounds`` times over ``texts`` after a warm-up."""
    for text in texts[:10]:
        index.match(text)
    timings = []
    for _ in range(rounds):
        for text in texts:
            started = time.perf_counter()
            index.match(text)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def measure_size(size: int, texts: list[str], rounds: int) -> dict[str, Any]:
    """Matching at ``size`` entries with the opinion, and the lexical baseline's."""
    entries, synonyms = shipped_knowledge()
    padded = padded_entries(entries, size)
    db = connect(VECTOR_FILE)
    migrate(db, [migrations])
    started = time.perf_counter()
    index = MatchIndex(padded, synonyms, vector_cache=DatabaseVectorCache(db))
    build = time.perf_counter() - started
    lexical = MatchIndex(padded, synonyms, semantic=False)
    embedded_before = semantic.messages_embedded()
    with_opinion = _timed(index, texts, rounds)
    return {
        "size": size,
        "phrasings": len(index.texts),
        "build_seconds_with_cached_vectors": build,
        "vector_mb": index.vectors.nbytes / 2**20 if index.vectors is not None else 0.0,
        "match_ms_with_opinion": summary_ms(with_opinion),
        "match_ms_lexical_baseline": summary_ms(_timed(lexical, texts, rounds)),
        "messages_embedded": semantic.messages_embedded() - embedded_before,
    }


def measure(queries: int | None, rounds: int, sizes: list[int]) -> dict[str, Any]:
    """Every figure of this benchmark, as JSON-ready data."""
    entries, synonyms = shipped_knowledge()
    started = time.perf_counter()
    semantic.phrasing_vectors(["预热"])
    load_seconds = time.perf_counter() - started
    lexical = MatchIndex(entries, synonyms, semantic=False)
    started = time.perf_counter()
    index = MatchIndex(entries, synonyms)
    first_build = time.perf_counter() - started
    phrasings = len(index.texts)
    per_phrasing_ms = (first_build - lexical.build_seconds) * 1000 / phrasings
    edited = [
        *entries[:-1],
        replace(entries[-1], alternates=[*entries[-1].alternates, "新加的问法"]),
    ]
    started = time.perf_counter()
    MatchIndex(edited, synonyms)
    rebuild = time.perf_counter() - started
    found = load_queries_or_report(entries, None)
    texts = [query.text for query in sample(found[0] if found else [], queries, seed=7)]
    embedded_before = semantic.messages_embedded()
    with_opinion = _timed(index, texts, 1)
    embedded = semantic.messages_embedded() - embedded_before
    with_opinion += _timed(index, texts, rounds - 1) if rounds > 1 else []
    alone = _timed(lexical, texts, rounds)
    return {
        "machine": machine(),
        "model_load_seconds": load_seconds,
        "phrasings": phrasings,
        "embed_ms_per_phrasing": per_phrasing_ms,
        "projected_first_build_minutes_at_100k": per_phrasing_ms * PHRASINGS_AT_100K / 60_000,
        "lexical_build_seconds": lexical.build_seconds,
        "first_build_seconds": first_build,
        "rebuild_after_one_edit_seconds": rebuild,
        "match_ms_with_opinion": summary_ms(with_opinion),
        "match_ms_lexical_baseline": summary_ms(alone),
        "messages": len(texts),
        "messages_embedded": embedded,
        "sizes": [measure_size(size, texts, rounds) for size in sizes],
        "vector_mb_per_worker_at_100k": {
            "float32": PHRASINGS_AT_100K * semantic.DIMENSIONS * 4 / 2**20,
            "float16": PHRASINGS_AT_100K * semantic.DIMENSIONS * 2 / 2**20,
            "int8": PHRASINGS_AT_100K * semantic.DIMENSIONS / 2**20,
        },
    }


def report(figures: dict[str, Any]) -> str:
    """The figures as lines of text, each with its baseline where it has one."""
    opinion, alone = figures["match_ms_with_opinion"], figures["match_ms_lexical_baseline"]
    memory = figures["vector_mb_per_worker_at_100k"]
    sized = []
    for at in figures["sizes"]:
        with_opinion, baseline = at["match_ms_with_opinion"], at["match_ms_lexical_baseline"]
        sized.append(
            f"at {at['size']:,} entries ({at['phrasings']:,} phrasings, vectors "
            f"{at['vector_mb']:.0f} MB, build {at['build_seconds_with_cached_vectors']:.1f} s): "
            f"p50 {with_opinion['p50']:.2f} ms p99 {with_opinion['p99']:.2f} ms "
            f"(baseline, lexical: p50 {baseline['p50']:.2f} ms p99 {baseline['p99']:.2f} ms); "
            f"messages embedded {at['messages_embedded']} of {figures['messages']}"
        )
    return "\n".join(
        [
            machine_line(figures["machine"]),
            f"model load                {figures['model_load_seconds']:.2f} s",
            f"embedding                 {figures['embed_ms_per_phrasing']:.2f} ms per phrasing "
            f"({figures['phrasings']} phrasings)",
            f"first build, shipped      {figures['first_build_seconds']:.2f} s "
            f"(baseline, lexical only: {figures['lexical_build_seconds']:.2f} s)",
            f"projected first build at 100,000 entries: "
            f"{figures['projected_first_build_minutes_at_100k']:.0f} min of one core",
            f"rebuild after one edit    {figures['rebuild_after_one_edit_seconds']:.2f} s",
            f"match with opinion  p50 {opinion['p50']:.2f} ms  p99 {opinion['p99']:.2f} ms  "
            f"mean {opinion['mean']:.2f} ms",
            f"baseline, lexical   p50 {alone['p50']:.2f} ms  p99 {alone['p99']:.2f} ms  "
            f"mean {alone['mean']:.2f} ms",
            f"messages embedded by the gate: {figures['messages_embedded']} of "
            f"{figures['messages']}",
            "vectors per worker at 100,000 entries: "
            f"float32 {memory['float32']:.0f} MB (baseline), float16 {memory['float16']:.0f} MB "
            f"(held now), int8 {memory['int8']:.0f} MB",
            *sized,
        ]
    )


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, help="a seeded sample of the labeled questions")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[], help="also time these sizes (entries)"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    add_labeled_argument(parser)
    arguments = parser.parse_args()
    figures = measure(arguments.queries, max(arguments.rounds, 1), arguments.sizes)
    print(report(figures))
    write_json(arguments.json, figures)


if __name__ == "__main__":
    main()
