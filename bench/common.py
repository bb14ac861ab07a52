"""What every benchmark shares: percentiles, PASS/FAIL lines, the machine it ran on, JSON output."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    """One speed target: what was measured, against which limit, and whether it held."""

    name: str
    figure: str
    limit: str
    met: bool | None  # None: not measured in this run (e.g. a smaller --sizes)

    def line(self) -> str:
        """``PASS``/``FAIL``/``n/a``, the target and the figure, aligned for a terminal."""
        verdict = {True: "PASS", False: "FAIL", None: "n/a "}[self.met]
        return f"  [{verdict}] {self.name:<46} {self.figure:>22}   (target {self.limit})"

    def as_dict(self) -> dict[str, Any]:
        """The target as JSON-ready data."""
        return {"name": self.name, "figure": self.figure, "limit": self.limit, "met": self.met}


def summary_ms(samples: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99, mean and max of timings in milliseconds, plus how many there were."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no timings to summarise")
    return {
        "n": len(ordered),
        "p50": _percentile(ordered, 50),
        "p95": _percentile(ordered, 95),
        "p99": _percentile(ordered, 99),
        "mean": statistics.fmean(ordered),
        "max": ordered[-1],
    }


def _percentile(ordered: Sequence[float], percent: float) -> float:
    """Linear interpolation between closest ranks, as numpy's default does."""
    position = (len(ordered) - 1) * percent / 100
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


# The code whose speed bench_matcher measures: normalising, features, indexes, scoring.
MATCHER_FILES = (
    "knowledge/matching/normalize.py",
    "knowledge/matching/clauses.py",
    "knowledge/matching/features.py",
    "knowledge/matching/feature_index.py",
    "knowledge/matching/matcher.py",
)


def machine() -> dict[str, Any]:
    """When, on what and on which code the benchmark ran.

    The load average shows whether other work shared the CPU; the matcher's hash ties the
    figures to the exact matcher code measured (:data:`MATCHER_FILES`, which change
    between commits).
    """
    load = os.getloadavg()
    matcher = b"".join((ROOT / name).read_bytes() for name in MATCHER_FILES)
    return {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_average_1m": round(load[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "git_head": _git_head(),
        "matcher_sha256": hashlib.sha256(matcher).hexdigest()[:12],
    }


def _git_head() -> str:
    """The checked-out commit (short), or "unknown" outside a git checkout."""
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "unknown"
    return completed.stdout.strip() or "unknown"


def machine_line(info: dict[str, Any]) -> str:
    """One header line describing :func:`machine`'s result."""
    return (
        f"{info['date']} · {info['cpus']} CPUs · load {info['load_average_1m']} · "
        f"Python {info['python']} · git {info['git_head']} · "
        f"matcher code sha256 {info['matcher_sha256']}"
    )


def current_rss_mb() -> float:
    """This process's resident memory now, in MB (Linux /proc)."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("VmRSS not found in /proc/self/status")


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (ru_maxrss is in KB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_json(path: str | None, data: dict[str, Any]) -> None:
    """Write the figures to ``path`` (folders created) when ``--json`` was given."""
    if not path:
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"figures written to {target}")


def subprocess_env() -> dict[str, str]:
    """The environment for a child Python that must import the project from its root."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def python() -> str:
    """The interpreter running the benchmark, for its child processes."""
    return sys.executable
