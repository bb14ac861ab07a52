"""Where the matcher's time goes: cProfile of building the index and of matching questions.

Run from the project root::

    python -m bench.profile_matcher --size 100000 --queries 200

Prints the functions with the most cumulative and own time for the build, then for
``match`` over the labeled questions (or the shipped alternates), at one knowledge-base
size made like bench_matcher's (shipped entries plus distractors).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time

from bench.bench_matcher import SEED
from bench.distractors import padded_entries
from bench.knowledge_base import load_queries, sample, shipped_knowledge
from knowledge.matching.matcher import MatchIndex


def top_functions(profile: cProfile.Profile, sort: str, limit: int) -> str:
    """The ``limit`` heaviest functions of ``profile`` by ``sort``, as pstats prints them."""
    buffer = io.StringIO()
    stats = pstats.Stats(profile, stream=buffer)
    stats.strip_dirs().sort_stats(sort).print_stats(limit)
    lines = buffer.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join(lines[start:])


def main(argv: list[str] | None = None) -> int:
    """Profile one build and the matching of a sample of questions."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=100_000, help="entries in all")
    parser.add_argument("--queries", type=int, default=200, help="questions matched")
    parser.add_argument("--top", type=int, default=15, help="functions listed per table")
    args = parser.parse_args(argv)

    shipped, synonyms = shipped_knowledge()
    entries = padded_entries(shipped, args.size, SEED)
    queries, source, _unresolved = load_queries(shipped)
    texts = [query.text for query in sample(queries, args.queries, SEED)]

    build = cProfile.Profile()
    start = time.perf_counter()
    build.enable()
    index = MatchIndex(entries, synonyms, semantic=False)
    build.disable()
    print(f"build of {len(index):,} entries: {time.perf_counter() - start:.2f} s under cProfile")
    print(top_functions(build, "tottime", args.top))

    for text in texts[:10]:
        index.match(text)
    matching = cProfile.Profile()
    start = time.perf_counter()
    matching.enable()
    for text in texts:
        index.match(text)
    matching.disable()
    per_question = (time.perf_counter() - start) / len(texts) * 1000
    print(f"\nmatch over {len(texts)} questions ({source}): {per_question:.3f} ms each")
    print(top_functions(matching, "tottime", args.top))
    print()
    print(top_functions(matching, "cumulative", args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
