"""Matching time per question at 1,000 / 10,000 / 100,000 entries, against a rapidfuzz baseline.

Run from the project root::

    python -m bench.bench_matcher                      # 1,000 / 10,000 / 100,000 entries
    python -m bench.bench_matcher --sizes 300 --queries 20 --json bench/results/matcher.json

The knowledge base at each size is the shipped entries plus generated distractors
(bench/distractors.py). The baseline, measured in the same run over the same phrasings
(standard questions and alternates of every entry), is
``rapidfuzz.process.extractOne(text, questions, scorer=fuzz.WRatio)``. Queries are the
labeled questions in tests/eval/questions.jsonl. Accuracy is measured on the shipped
knowledge base alone and at the largest size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from rapidfuzz import fuzz, process

from bench.common import (
    ROOT,
    Target,
    machine,
    machine_line,
    python,
    subprocess_env,
    summary_ms,
    write_json,
)
from bench.distractors import padded_entries
from bench.knowledge_base import (
    Query,
    add_labeled_argument,
    load_queries_or_report,
    sample,
    shipped_knowledge,
)
from knowledge.entries import Entry
from knowledge.matching.matcher import Match, MatchIndex

DEFAULT_SIZES = (1_000, 10_000, 100_000)
SEED = 20240415
WARM_UP_QUERIES = 10

Best = tuple[int | None, float]  # the baseline's top entry id and its WRatio score (0–100)


class Baseline:
    """``extractOne`` with WRatio over every phrasing, mapped back to the entry it belongs to."""

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.questions = [phrasing for entry in entries for phrasing in entry.phrasings()]
        self.owners = [entry.id for entry in entries for _ in entry.phrasings()]

    def best(self, text: str) -> Best:
        """The entry whose phrasing scores highest for ``text``, and that score."""
        found = process.extractOne(text, self.questions, scorer=fuzz.WRatio)
        if found is None:
            return None, 0.0
        _choice, score, position = found
        return self.owners[position], float(score)


_WORKER_BASELINE: Baseline | None = None


def _start_worker(baseline: Baseline) -> None:
    global _WORKER_BASELINE
    _WORKER_BASELINE = baseline


def _worker_best(text: str) -> Best:
    assert _WORKER_BASELINE is not None
    return _WORKER_BASELINE.best(text)


def baseline_bests(baseline: Baseline, texts: list[str], jobs: int) -> list[Best]:
    """The baseline's verdict on every text, spread over ``jobs`` processes (untimed)."""
    if jobs <= 1 or len(texts) < 2 * jobs:
        return [baseline.best(text) for text in texts]
    with ProcessPoolExecutor(jobs, initializer=_start_worker, initargs=(baseline,)) as pool:
        return list(pool.map(_worker_best, texts, chunksize=4))


def time_pufa(index: MatchIndex, texts: list[str], rounds: int) -> tuple[list[float], list[Match]]:
    """Milliseconds per ``index.match`` over ``rounds`` passes, and the first pass's verdicts."""
    for text in texts[:WARM_UP_QUERIES]:
        index.match(text)
    timings: list[float] = []
    matches: list[Match] = []
    for round_number in range(rounds):
        for text in texts:
            start = time.perf_counter_ns()
            match = index.match(text)
            timings.append((time.perf_counter_ns() - start) / 1e6)
            if round_number == 0:
                matches.append(match)
    return timings, matches


def time_baseline(baseline: Baseline, texts: list[str]) -> tuple[list[float], list[Best]]:
    """Milliseconds per baseline lookup (one pass, after one warm-up), and the verdicts."""
    baseline.best(texts[0])
    timings: list[float] = []
    bests: list[Best] = []
    for text in texts:
        start = time.perf_counter_ns()
        bests.append(baseline.best(text))
        timings.append((time.perf_counter_ns() - start) / 1e6)
    return timings, bests


def pufa_accuracy(
    queries: list[Query], matches: list[Match], shipped_ids: set[int]
) -> dict[str, Any]:
    """How Pufa's bands fared: a direct answer is the ``answer`` band."""
    figures = _empty_accuracy(queries)
    for query, match in zip(queries, matches, strict=True):
        best = match.best.entry_id if match.best else None
        direct = match.band == "answer"
        if query.expect is None:
            figures["oos_direct"] += direct
            figures["oos_direct_shipped"] += direct and best in shipped_ids
            figures["oos_choices"] += match.band == "choices"
            continue
        figures["top1"] += best == query.expect
        figures["correct_direct"] += direct and best == query.expect
        figures["wrong_direct"] += direct and best != query.expect
        figures["choices_with_right"] += match.band == "choices" and any(
            candidate.entry_id == query.expect for candidate in match.candidates
        )
        figures["fallback"] += match.band == "fallback"
    return _with_handled_right(figures)


def baseline_accuracy(
    queries: list[Query], bests: list[Best], shipped_ids: set[int]
) -> dict[str, Any]:
    """How the baseline fared when it answers at or above its best cutoff on this very data."""
    cutoffs = sorted({score for _owner, score in bests} | {101.0})

    def handled_right(cutoff: float) -> int:
        return sum(
            (owner == query.expect and score >= cutoff)
            if query.expect is not None
            else score < cutoff
            for query, (owner, score) in zip(queries, bests, strict=True)
        )

    cutoff = max(cutoffs, key=lambda value: (handled_right(value), value))
    figures = _empty_accuracy(queries)
    figures["cutoff"] = cutoff
    for query, (owner, score) in zip(queries, bests, strict=True):
        direct = score >= cutoff
        if query.expect is None:
            figures["oos_direct"] += direct
            figures["oos_direct_shipped"] += direct and owner in shipped_ids
            continue
        figures["top1"] += owner == query.expect
        figures["correct_direct"] += direct and owner == query.expect
        figures["wrong_direct"] += direct and owner != query.expect
        figures["fallback"] += not direct
    return _with_handled_right(figures)


def _empty_accuracy(queries: list[Query]) -> dict[str, Any]:
    in_scope = sum(query.expect is not None for query in queries)
    return {
        "in_scope": in_scope,
        "out_of_scope": len(queries) - in_scope,
        **dict.fromkeys(
            (
                "top1",
                "correct_direct",
                "wrong_direct",
                "choices_with_right",
                "fallback",
                "oos_direct",
                "oos_direct_shipped",
                "oos_choices",
            ),
            0,
        ),
    }


def _with_handled_right(figures: dict[str, Any]) -> dict[str, Any]:
    """Add the share handled right: in scope answered correctly, out of scope not answered."""
    right = figures["correct_direct"] + figures["out_of_scope"] - figures["oos_direct"]
    total = figures["in_scope"] + figures["out_of_scope"]
    figures["handled_right"] = right
    figures["handled_right_share"] = right / total if total else 0.0
    figures["top1_share"] = figures["top1"] / figures["in_scope"] if figures["in_scope"] else 0.0
    return figures


def build_probe(size: int) -> dict[str, Any]:
    """Build time and peak RSS of the ``size``-entry index, in a fresh process."""
    completed = subprocess.run(
        [python(), "-m", "bench.probe_build", "--size", str(size), "--seed", str(SEED)],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the build probe failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "n/a"


ACCURACY_HEADER = (
    f"  {'':<36}{'---------- in scope ----------':>38}  {'----- out of scope -----':>26}\n"
    f"  {'':<36}{'top-1':>8}{'right':>8}{'wrong':>8}{'right in':>14}  {'answered':>10}"
    f"{'(shipped':>10}{'handled':>10}\n"
    f"  {'':<36}{'':>8}{'direct':>8}{'direct':>8}{'choices':>14}  {'directly':>10}"
    f"{'entry)':>10}{'right':>10}"
)


def accuracy_row(label: str, figures: dict[str, Any]) -> str:
    """One row of the accuracy table (shares of in-scope or out-of-scope questions)."""
    n_in, n_out = figures["in_scope"], figures["out_of_scope"]
    in_choices = _share(figures["choices_with_right"], n_in) if "cutoff" not in figures else "—"
    return (
        f"  {label:<36}{_share(figures['top1'], n_in):>8}"
        f"{_share(figures['correct_direct'], n_in):>8}{_share(figures['wrong_direct'], n_in):>8}"
        f"{in_choices:>14}  {_share(figures['oos_direct'], n_out):>10}"
        f"{_share(figures['oos_direct_shipped'], n_out):>10}"
        f"{100 * figures['handled_right_share']:>9.1f}%"
    )


def _sizes(requested: Sequence[int], shipped: int) -> list[int]:
    return sorted({shipped, *(max(size, shipped) for size in requested)})


def measure_size(
    size: int,
    shipped: list[Entry],
    synonyms: list[list[str]],
    queries: list[Query],
    baseline_positions: list[int],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Build, time and (at the shipped and largest sizes) score one knowledge-base size."""
    entries = padded_entries(shipped, size, SEED)
    texts = [query.text for query in queries]
    start = time.perf_counter()
    index = MatchIndex(entries, synonyms, semantic=False)
    build_seconds = time.perf_counter() - start
    timings, matches = time_pufa(index, texts, args.rounds)
    baseline = Baseline(entries)
    sample_texts = [texts[position] for position in baseline_positions]
    base_timings, base_bests = time_baseline(baseline, sample_texts)
    pufa_on_sample = [timings[position] for position in baseline_positions]
    figures: dict[str, Any] = {
        "entries": len(entries),
        "phrasings_indexed": len(index.texts),
        "baseline_strings": len(baseline.questions),
        "build_seconds": build_seconds,
        "pufa_ms": summary_ms(timings),
        "pufa_ms_on_baseline_sample": summary_ms(pufa_on_sample),
        "baseline_ms": summary_ms(base_timings),
    }
    figures["ratio_mean"] = (
        figures["baseline_ms"]["mean"] / figures["pufa_ms_on_baseline_sample"]["mean"]
    )
    figures["ratio_p50"] = (
        figures["baseline_ms"]["p50"] / figures["pufa_ms_on_baseline_sample"]["p50"]
    )
    shipped_ids = {entry.id for entry in shipped if entry.id is not None}
    figures["pufa_accuracy"] = pufa_accuracy(queries, matches, shipped_ids)
    if size == len(shipped) or size == max(_sizes(args.sizes, len(shipped))):
        known = dict(zip(baseline_positions, base_bests, strict=True))
        rest = [position for position in range(len(texts)) if position not in known]
        known.update(
            zip(rest, baseline_bests(baseline, [texts[p] for p in rest], args.jobs), strict=True)
        )
        bests = [known[position] for position in range(len(texts))]
        figures["baseline_accuracy"] = baseline_accuracy(queries, bests, shipped_ids)
    return figures


def print_size(figures: dict[str, Any]) -> None:
    """The timing lines for one size."""
    pufa, base = figures["pufa_ms"], figures["baseline_ms"]
    print(
        f"{figures['entries']:>8,} entries ({figures['phrasings_indexed']:,} phrasings)  "
        f"build {figures['build_seconds']:6.2f} s\n"
        f"    Pufa      p50 {pufa['p50']:8.3f}  p95 {pufa['p95']:8.3f}  p99 {pufa['p99']:8.3f}  "
        f"mean {pufa['mean']:8.3f} ms  (n={pufa['n']})\n"
        f"    baseline  p50 {base['p50']:8.3f}                  p99 {base['p99']:8.3f}  "
        f"mean {base['mean']:8.3f} ms  (n={base['n']}, sampled)\n"
        f"    Pufa is {figures['ratio_mean']:,.1f}x faster by mean, "
        f"{figures['ratio_p50']:,.1f}x by p50 (same sampled queries)",
        flush=True,
    )


def _wrong_answers(figures: dict[str, Any]) -> int:
    """Direct answers that are wrong: the wrong entry, or any entry for an out-of-scope one."""
    return figures["wrong_direct"] + figures["oos_direct"]


def targets(
    by_size: dict[int, dict[str, Any]], probe: dict[str, Any], probe_size: int
) -> list[Target]:
    """The issue's speed targets, each checked against this run's figures."""
    at_10k, at_100k = by_size.get(10_000), by_size.get(100_000)
    probed = probe if probe_size == 100_000 else None

    def ms(figures: dict[str, Any] | None, key: str) -> str:
        return f"{figures['pufa_ms'][key]:.3f} ms" if figures else "size not run"

    def accurate(figures: dict[str, Any] | None) -> bool | None:
        if figures is None or "baseline_accuracy" not in figures:
            return None
        ours, theirs = figures["pufa_accuracy"], figures["baseline_accuracy"]
        return (
            ours["top1"] >= theirs["top1"]
            and ours["correct_direct"] >= theirs["correct_direct"]
            and _wrong_answers(ours) <= _wrong_answers(theirs)
        )

    def accuracy_figure(figures: dict[str, Any] | None) -> str:
        if figures is None or "baseline_accuracy" not in figures:
            return "size not run"
        ours, theirs = figures["pufa_accuracy"], figures["baseline_accuracy"]
        n_in = ours["in_scope"]
        return (
            f"top-1 {_share(ours['top1'], n_in)} vs {_share(theirs['top1'], n_in)}; "
            f"right direct {_share(ours['correct_direct'], n_in)} vs "
            f"{_share(theirs['correct_direct'], n_in)}; "
            f"wrong direct {_wrong_answers(ours)} vs {_wrong_answers(theirs)}"
        )

    return [
        Target(
            "p99 per question at 10,000 entries",
            ms(at_10k, "p99"),
            "<= 2 ms",
            at_10k["pufa_ms"]["p99"] <= 2 if at_10k else None,
        ),
        Target(
            "p50 per question at 100,000 entries",
            ms(at_100k, "p50"),
            "<= 1 ms",
            at_100k["pufa_ms"]["p50"] <= 1 if at_100k else None,
        ),
        Target(
            "p99 per question at 100,000 entries",
            ms(at_100k, "p99"),
            "<= 5 ms",
            at_100k["pufa_ms"]["p99"] <= 5 if at_100k else None,
        ),
        Target(
            "faster than baseline at 100,000 (mean)",
            f"{at_100k['ratio_mean']:,.1f}x" if at_100k else "size not run",
            ">= 50x",
            at_100k["ratio_mean"] >= 50 if at_100k else None,
        ),
        Target(
            "as accurate as baseline at 100,000 (all 3)",
            accuracy_figure(at_100k),
            "Pufa >= baseline",
            accurate(at_100k),
        ),
        Target(
            "index build at 100,000 (fresh process)",
            f"{probed['build_seconds']:.2f} s" if probed else "size not run",
            "<= 10 s",
            probed["build_seconds"] <= 10 if probed else None,
        ),
        Target(
            "RSS growth of the build at 100,000",
            f"{probed['growth_mb']:.0f} MB" if probed else "size not run",
            "<= 400 MB",
            probed["growth_mb"] <= 400 if probed else None,
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the matcher benchmark and print (and optionally save) its figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--queries", type=int, help="use a seeded sample of this many questions")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the questions")
    parser.add_argument("--baseline-queries", type=int, default=50, help="baseline timing sample")
    parser.add_argument("--jobs", type=int, default=2, help="processes for baseline accuracy")
    add_labeled_argument(parser)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if min(args.sizes) < 1 or args.rounds < 1 or args.baseline_queries < 1:
        parser.error("--sizes, --rounds and --baseline-queries must be positive")

    info = machine()
    shipped, synonyms = shipped_knowledge()
    loaded = load_queries_or_report(shipped, args.labeled)
    if loaded is None:
        return 2
    all_queries, source, unresolved = loaded
    queries = sample(all_queries, args.queries, SEED)
    baseline_positions = sorted(sample(list(range(len(queries))), args.baseline_queries, SEED))
    sizes = _sizes(args.sizes, len(shipped))
    print(f"Pufa matcher benchmark — {machine_line(info)}")
    print(f"queries: {source}; using {len(queries)}", end="")
    print(f" ({unresolved} with an expect naming no entry were skipped)" if unresolved else "")
    print(
        f"Pufa timed on every query x {args.rounds} rounds; the baseline "
        f"(extractOne, WRatio, over the same phrasings) on a seeded sample of "
        f"{len(baseline_positions)} queries to keep it affordable."
    )

    probe_size = max(sizes)
    probe = build_probe(probe_size)
    print(
        f"fresh-process build of {probe['entries']:,} entries: {probe['build_seconds']:.2f} s, "
        f"RSS {probe['rss_before_mb']:.0f} MB before → peak {probe['peak_rss_mb']:.0f} MB "
        f"(growth {probe['growth_mb']:.0f} MB)",
        flush=True,
    )
    by_size: dict[int, dict[str, Any]] = {}
    for size in sizes:
        by_size[size] = measure_size(size, shipped, synonyms, queries, baseline_positions, args)
        print_size(by_size[size])

    accuracy = next(iter(by_size.values()))["pufa_accuracy"]
    print(
        f"\nAccuracy on the labeled set ({accuracy['in_scope']} in scope, "
        f"{accuracy['out_of_scope']} out of scope).\nDirect = Pufa's answer band; the baseline "
        "answers when its score >= the cutoff that suits it\nbest on this same data (which "
        "favours it). Handled right = in scope answered right + out of scope\nnot answered."
    )
    print(ACCURACY_HEADER)
    for size, figures in by_size.items():
        print(accuracy_row(f"Pufa at {figures['entries']:,}", figures["pufa_accuracy"]))
        if "baseline_accuracy" in figures:
            cutoff = figures["baseline_accuracy"]["cutoff"]
            print(
                accuracy_row(
                    f"baseline at {size:,} (cutoff {cutoff:.0f})", figures["baseline_accuracy"]
                )
            )
    checks = targets(
        {size: figures for size, figures in by_size.items() if size in args.sizes},
        probe,
        probe_size,
    )
    print("\nTargets (issue 3, Speed):")
    for check in checks:
        print(check.line())
    info["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(f"load average at the end: {info['load_average_1m_at_end']}")
    write_json(
        args.json,
        {
            "benchmark": "matcher",
            "machine": info,
            "queries": {"source": source, "used": len(queries), "unresolved": unresolved},
            "rounds": args.rounds,
            "build_probe": probe,
            "sizes": list(by_size.values()),
            "targets": [check.as_dict() for check in checks],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
