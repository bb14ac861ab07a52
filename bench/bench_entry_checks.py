"""How long the checks before review take per entry, against a rebuild for every check.

Seeds a fresh database with the shipped knowledge, then times (CPU time) ``check_entry``
on every ``--step``-th published entry three ways: unchanged (checked on the live index),
edited (one alternate added: an index of the edit and the others is built), and the
baseline — each unchanged entry checked on an index the checks cannot take for the live
one, with no phrasing remembered: a rebuild per check, as before the live index was reused.

    python -m bench.bench_entry_checks --step 1 --json bench/results/entry_checks.json
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.common import machine, machine_line, summary_ms, write_json
from knowledge import entry_checks
from knowledge.db import connect
from knowledge.entry_checks import check_entry
from knowledge.matching.live_index import current_index
from knowledge.matching.matcher import MatchIndex
from knowledge.store import published_entries
from knowledge.synonyms import synonym_groups


def main(argv: list[str] | None = None) -> int:
    """Time the entry checks and print (and optionally save) the figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--step", type=int, default=4, help="check every STEP-th entry")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.step < 1:
        parser.error("--step must be positive")

    from bot import create_app

    info = machine()
    print(f"Pufa entry checks benchmark — {machine_line(info)}")
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "pufa.sqlite3")
        create_app({"DATABASE": path})
        db = connect(path)
        live = current_index(db, path)
        published = published_entries(db)
        sample = published[:: args.step]
        # The same entries, but an index the checks cannot take for the live one.
        stale = MatchIndex(published, synonym_groups(db), generation=-1)
        baseline, unchanged, edited = [], [], []
        for entry in sample:
            entry_checks._PAIRS.clear()
            started = time.process_time()
            check_entry(db, entry, stale)
            baseline.append(time.process_time() - started)
        for entry in sample:
            started = time.process_time()
            check_entry(db, entry, live)
            unchanged.append(time.process_time() - started)
        for entry in sample:
            draft = replace(entry, alternates=[*entry.alternates, "这个问题怎么办"])
            started = time.process_time()
            check_entry(db, draft, live)
            edited.append(time.process_time() - started)
    figures = {
        "baseline_rebuild_per_check": summary_ms([1000 * t for t in baseline]),
        "unchanged_entry": summary_ms([1000 * t for t in unchanged]),
        "edited_entry": summary_ms([1000 * t for t in edited]),
    }
    print(f"{len(sample)} of {len(published)} shipped entries, CPU milliseconds per check:")
    for label, ms in figures.items():
        print(f"  {label:<27} p50 {ms['p50']:7.1f}  p95 {ms['p95']:7.1f}  max {ms['max']:7.1f}")
    ratio = figures["baseline_rebuild_per_check"]["p50"] / figures["unchanged_entry"]["p50"]
    print(f"  baseline / unchanged at p50: {ratio:.1f}x")
    write_json(
        args.json,
        {"benchmark": "entry_checks", "machine": info, "entries": len(sample), **figures},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
