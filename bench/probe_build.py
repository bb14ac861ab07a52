"""Build one index in a fresh process and print its build time and memory as JSON.

Run by bench_matcher (``python -m bench.probe_build --size 100000``) so that the memory
figure is the index's alone: the entries are generated first, then RSS is read, then the
index is built (including the one-off syllable table) and the peak RSS read again.
"""

from __future__ import annotations

import argparse
import gc
import json
import time

from bench.common import current_rss_mb, peak_rss_mb
from bench.distractors import padded_entries
from bench.knowledge_base import shipped_knowledge
from knowledge.matching.matcher import MatchIndex


def main(argv: list[str] | None = None) -> int:
    """Build the index of ``--size`` entries and print the figures as one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    shipped, synonyms = shipped_knowledge()
    entries = padded_entries(shipped, args.size, args.seed)
    gc.collect()
    rss_before = current_rss_mb()
    peak_before = peak_rss_mb()
    start = time.perf_counter()
    index = MatchIndex(entries, synonyms, semantic=False)
    build_seconds = time.perf_counter() - start
    figures = {
        "entries": len(index),
        "phrasings": len(index.texts),
        "build_seconds": build_seconds,
        "rss_before_mb": rss_before,
        "peak_before_mb": peak_before,
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_mb": current_rss_mb(),
    }
    figures["growth_mb"] = figures["peak_rss_mb"] - rss_before
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
