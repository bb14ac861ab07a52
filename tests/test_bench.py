"""The benchmarks run end to end at a tiny size and print their figures.

Nothing here is timed: the figures themselves are checked for presence and sense, never
against a speed limit (that is the benchmarks' job, on a quiet machine).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench import knowledge_base
from bench.bench_matcher import baseline_accuracy
from bench.distractors import distractor_entries, distractors, padded_entries
from bench.knowledge_base import Query, load_queries, shipped_knowledge
from knowledge.matching.evaluation import EvaluationError

ROOT = Path(__file__).resolve().parent.parent


def _run(module: str, tmp_path: Path, *args: str) -> tuple[str, dict[str, Any]]:
    """Run ``python -m module args --json FILE``; its stdout and the figures it wrote."""
    figures_file = tmp_path / f"{module}.json"
    completed = subprocess.run(
        [sys.executable, "-m", module, *args, "--json", str(figures_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout, json.loads(figures_file.read_text(encoding="utf-8"))


def test_matcher_benchmark_prints_timings_ratios_accuracy_and_targets(tmp_path: Path) -> None:
    stdout, figures = _run(
        "bench.bench_matcher",
        tmp_path,
        *("--sizes", "600", "--queries", "20", "--baseline-queries", "10", "--rounds", "1"),
    )
    for expected in ("Pufa      p50", "baseline  p50", "faster by mean", "Handled right ="):
        assert expected in stdout
    assert "[n/a ] p99 per question at 10,000 entries" in stdout
    shipped, largest = figures["sizes"]
    assert largest["entries"] == 600 and shipped["entries"] < 600
    for size in (shipped, largest):
        assert size["pufa_ms"]["n"] == 20 and size["baseline_ms"]["n"] == 10
        assert 0 < size["pufa_ms"]["p50"] <= size["pufa_ms"]["p99"]
        assert size["ratio_mean"] > 0
        accuracy = size["baseline_accuracy"]
        assert accuracy["in_scope"] + accuracy["out_of_scope"] == 20
    probe = figures["build_probe"]
    assert probe["entries"] == 600 and probe["peak_rss_mb"] >= probe["rss_before_mb"] > 0


def test_api_benchmark_serves_both_apps_over_http(tmp_path: Path) -> None:
    stdout, figures = _run("bench.bench_api", tmp_path, "--requests", "20", "--warm-up", "2")
    assert "Pufa /api/ask" in stdout and "trivial JSON app" in stdout and "Pufa / trivial" in stdout
    assert figures["pufa"]["ms"]["n"] == figures["trivial"]["ms"]["n"] == 20
    assert sum(figures["pufa"]["kinds"].values()) == 20
    assert figures["targets"][0]["met"] in (True, False)


def test_webhook_benchmark_loads_both_apps_and_checks_duplicates(tmp_path: Path) -> None:
    stdout, figures = _run(
        "bench.bench_webhook",
        tmp_path,
        *("--seconds", "0.5", "--long-seconds", "0.5", "--warm-up", "0.2", "--duplicates", "3"),
    )
    assert "load average" in stdout and "Targets (issue 16" in stdout
    for app in ("pufa", "floor"):
        assert [phase["clients"] for phase in figures[app]] == [1, 4, 16]
        assert all(phase["requests"] > 0 and phase["per_second"] > 0 for phase in figures[app])
    duplicates = figures["duplicates"]
    # Processed once each; whether all three copies got the answer depends on the load.
    assert duplicates["messages"] == 3 and duplicates["turns_added"] == 3
    assert duplicates["errors"] == 0
    assert len(figures["targets"]) == 7


def test_startup_benchmark_times_fresh_processes(tmp_path: Path) -> None:
    stdout, figures = _run("bench.bench_startup", tmp_path, "--repeats", "1")
    assert "import flask" in stdout and "first start on an empty database" in stdout
    existing = figures["existing_database"]
    assert existing["wall_seconds"] > existing["in_process_seconds"] > 0
    assert figures["runs"][0]["reply_kind"] in ("answer", "choices", "fallback")
    assert figures["flask_import_seconds"] > 0


def test_distractors_are_deterministic_distinct_and_nested() -> None:
    thousand = distractors(1000, seed=7)
    assert thousand == distractors(1000, seed=7)
    assert thousand[:100] == distractors(100, seed=7)
    assert thousand != distractors(1000, seed=8)
    assert len({distractor.question for distractor in thousand}) == 1000
    assert all(len({d.question, *d.alternates}) == 3 for d in thousand)
    assert all(
        100 <= len(d.answer) <= 300 and "{" not in d.answer.replace("{服务大厅电话}", "")
        for d in thousand
    )


def test_padding_keeps_shipped_entries_and_numbers_the_rest_after_them() -> None:
    shipped, _synonyms = shipped_knowledge()
    entries = padded_entries(shipped, len(shipped) + 5)
    assert entries[: len(shipped)] == shipped
    assert [entry.id for entry in entries] == list(range(1, len(shipped) + 6))
    shipped_questions = {entry.question for entry in shipped}
    assert not shipped_questions & {entry.question for entry in distractor_entries(2000, 1)}


def test_labeled_set_resolves_ids_question_texts_and_out_of_scope(tmp_path: Path) -> None:
    shipped, _synonyms = shipped_knowledge()
    first, second = shipped[0], shipped[1]
    labeled = tmp_path / "questions.jsonl"
    lines = [
        {"text": "问一", "expect": first.id},
        {"text": "问二", "expect": second.question},
        {"text": "今天天气怎么样", "expect": None},
        {"text": "问四", "expect": "没有这条问题"},
    ]
    labeled.write_text(
        "\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\n",
        encoding="utf-8",
    )
    queries, note, unresolved = load_queries(shipped, [str(labeled)])
    assert queries == [
        Query("问一", first.id),
        Query("问二", second.id),
        Query("今天天气怎么样", None),
    ]
    assert unresolved == 1 and "3 labeled questions" in note


def test_labeled_set_names_the_file_and_bad_line(tmp_path: Path) -> None:
    shipped, _synonyms = shipped_knowledge()
    labeled = tmp_path / "questions.jsonl"
    labeled.write_text('{"text": "好", "expect": null}\n{"text": \n', encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"questions\.jsonl.*第2行"):
        load_queries(shipped, [str(labeled)])


def test_matcher_benchmark_refuses_a_malformed_labeled_file(tmp_path: Path) -> None:
    labeled = tmp_path / "broken.jsonl"
    labeled.write_text("not json\n", encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "-m", "bench.bench_matcher", "--labeled", str(labeled)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert "cannot read the labeled questions" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_without_labeled_files_the_alternates_stand_in_and_it_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(knowledge_base, "LABELED_FILE", tmp_path / "eval" / "questions.jsonl")
    shipped, _synonyms = shipped_knowledge()
    queries, note, _unresolved = load_queries(shipped)
    assert "alternates stand in" in note
    assert len(queries) == sum(len(entry.alternates) for entry in shipped)


def test_baseline_cutoff_is_the_one_that_suits_it_best() -> None:
    queries = [Query("a", 1), Query("b", 2), Query("c", None), Query("d", None)]
    # Right entries at 90 and 70; out-of-scope questions scoring 80 and 50.
    bests = [(1, 90.0), (2, 70.0), (1, 80.0), (2, 50.0)]
    figures = baseline_accuracy(queries, bests, shipped_ids={1, 2})
    assert figures["cutoff"] == 90.0
    assert figures["correct_direct"] == 1 and figures["oos_direct"] == 0
    assert figures["handled_right"] == 3 and figures["top1"] == 2


def test_entry_checks_benchmark_times_all_three_ways(tmp_path: Path) -> None:
    stdout, figures = _run("bench.bench_entry_checks", tmp_path, "--step", "100")
    assert figures["entries"] == len(range(0, len(shipped_knowledge()[0]), 100))
    for label in ("baseline_rebuild_per_check", "unchanged_entry", "edited_entry"):
        assert figures[label]["n"] == figures["entries"]
        assert label in stdout
    assert "baseline / unchanged at p50" in stdout


def test_bench_readme_shows_how_to_run_every_benchmark() -> None:
    readme = (ROOT / "bench" / "README.md").read_text(encoding="utf-8")
    programs = sorted(
        path.stem
        for pattern in ("bench_*.py", "profile_*.py")
        for path in (ROOT / "bench").glob(pattern)
    )
    assert programs
    assert [name for name in programs if f"python -m bench.{name}" not in readme] == []


def test_semantic_benchmark_prints_its_costs_with_their_baselines(tmp_path: Path) -> None:
    stdout, figures = _run("bench.bench_semantic", tmp_path, "--queries", "20", "--rounds", "1")
    for expected in ("ms per phrasing", "baseline, lexical", "messages embedded by the gate"):
        assert expected in stdout
    assert figures["phrasings"] > 2000 and figures["embed_ms_per_phrasing"] > 0
    assert 0 <= figures["messages_embedded"] <= figures["messages"] == 20
    assert figures["vector_mb_per_worker_at_100k"]["float16"] < 1000
