"""Start-up: a fresh process importing Pufa, creating the app and giving its first answer.

Run from the project root::

    python -m bench.bench_startup                 # 5 fresh processes, median reported
    python -m bench.bench_startup --repeats 1 --json bench/results/startup.json

Each run is a new Python process (bench/probe_startup.py) on an existing, already seeded
temporary database: import the app package, ``create_app`` (what ``import wsgi`` does),
then one real question through ``/api/ask`` (which builds the matcher's index). The wall
time of the whole process, interpreter start-up included, is what the target applies to.
The baseline, measured in the same run, is ``python -c "import flask"`` in a fresh process.
The first start on an empty database (migrations and seeding) is reported separately.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    Target,
    machine,
    machine_line,
    python,
    subprocess_env,
    write_json,
)
from bench.knowledge_base import shipped_knowledge

TARGET_SECONDS = 3.0


def timed_process(command: list[str]) -> tuple[float, str]:
    """Run ``command`` from the project root; its wall time in seconds and its stdout."""
    start = time.perf_counter()
    completed = subprocess.run(
        command, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr}")
    return seconds, completed.stdout


def start_pufa(database: Path, question: str) -> dict[str, Any]:
    """One fresh Pufa process on ``database``: wall time plus the probe's own breakdown."""
    wall, output = timed_process(
        [
            python(),
            "-m",
            "bench.probe_startup",
            "--database",
            str(database),
            "--question",
            question,
        ]
    )
    return {"wall_seconds": wall, **json.loads(output.strip().splitlines()[-1])}


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main(argv: list[str] | None = None) -> int:
    """Run the start-up benchmark and print (and optionally save) its figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per measure")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be positive")

    info = machine()
    shipped, _synonyms = shipped_knowledge()
    question = shipped[0].question
    print(f"Pufa start-up benchmark — {machine_line(info)}")
    print(f"first question: {question}; median of {args.repeats} fresh processes")
    with tempfile.TemporaryDirectory(prefix="pufa-bench-startup-") as folder:
        database = Path(folder) / "pufa.sqlite3"
        first_start = start_pufa(database, question)
        runs = [start_pufa(database, question) for _ in range(args.repeats)]
    flask_runs = [timed_process([python(), "-c", "import flask"])[0] for _ in range(args.repeats)]

    figures = {
        key: _median(runs, key)
        for key in (
            "import_seconds",
            "create_app_seconds",
            "first_answer_seconds",
            "in_process_seconds",
            "wall_seconds",
        )
    }
    figures["wall_seconds_max"] = max(run["wall_seconds"] for run in runs)
    flask_import = statistics.median(flask_runs)
    ratio = figures["wall_seconds"] / flask_import
    print(
        f"  existing seeded database: import {figures['import_seconds']:.3f} s + "
        f"create_app {figures['create_app_seconds']:.3f} s + first answer "
        f"{figures['first_answer_seconds']:.3f} s = {figures['in_process_seconds']:.3f} s "
        f"in process; {figures['wall_seconds']:.3f} s wall for the whole process "
        f"(max {figures['wall_seconds_max']:.3f} s; reply kind {runs[0]['reply_kind']})"
    )
    print(
        f"  first start on an empty database (migrate + seed {len(shipped)} entries): "
        f"create_app {first_start['create_app_seconds']:.3f} s, "
        f"{first_start['wall_seconds']:.3f} s wall for the whole process"
    )
    print(
        f"  baseline python -c 'import flask': {flask_import:.3f} s wall; "
        f"Pufa start + first answer is {ratio:.1f}x that"
    )
    check = Target(
        "fresh process to first answer (wall)",
        f"{figures['wall_seconds']:.2f} s",
        f"<= {TARGET_SECONDS:.0f} s",
        figures["wall_seconds"] <= TARGET_SECONDS,
    )
    print("\nTargets (issue 3, Speed):")
    print(check.line())
    write_json(
        args.json,
        {
            "benchmark": "startup",
            "machine": info,
            "repeats": args.repeats,
            "existing_database": figures,
            "runs": runs,
            "first_start_empty_database": first_start,
            "flask_import_seconds": flask_import,
            "ratio_to_flask_import": ratio,
            "targets": [check.as_dict()],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
