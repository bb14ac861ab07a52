"""The checks before review: citations, placeholders, phone numbers, length, and collisions."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from flask import Flask
from sqlite_utils import Database

from knowledge import entry_checks
from knowledge.entries import Entry
from knowledge.entry_checks import (
    MAX_REPLY_BYTES,
    Finding,
    check_entry,
    collision_findings,
    law_findings,
    text_findings,
)
from knowledge.matching.live_index import current_index
from knowledge.matching.matcher import MatchIndex
from knowledge.settings import get_settings
from knowledge.store import content_generation, get_entry, published_entries
from knowledge.synonyms import synonym_groups

PARROT = Entry(
    id=None,
    topic="property",
    question="楼上养的鹦鹉天天半夜学打鸣怎么办",
    alternates=["鹦鹉半夜叫吵得睡不着", "邻居家鹦鹉天天叫"],
    answer="先和邻居协商；协商不成可以申请人民调解，电话{调解中心电话}。",
    law_refs=["民法典第294条"],
)


@pytest.fixture
def live(app: Flask, db: Database) -> MatchIndex:
    return current_index(db, app.config["DATABASE"])


def kinds(entry: Entry, db: Database, live: MatchIndex) -> list[str]:
    return [f.kind for f in check_entry(db, entry, live).findings if f.severity != "info"]


def test_a_clean_entry_has_no_errors_or_warnings_and_shows_the_law_text(
    db: Database, live: MatchIndex
) -> None:
    report = check_entry(db, PARROT, live)
    assert [f.kind for f in report.findings] == ["law_text"]
    assert report.findings[0].message == "《民法典》第294条"
    assert "不动产权利人" in report.findings[0].detail


def test_an_article_in_the_answer_must_be_among_the_references() -> None:
    entry = Entry(
        None,
        "marriage",
        "问",
        "依据《民法典》第1079条和第1080条，另见反电信网络诈骗法第25条。",
        law_refs=["民法典第1079条"],
    )
    messages = [f.message for f in law_findings(entry) if f.severity == "error"]
    assert len(messages) == 2
    assert "民法典第1080条" in messages[0] and "反电信网络诈骗法第25条" in messages[1]


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        ("请拨打0571-88886666咨询。", "phone"),
        ("联系电话13812345678。", "phone"),
        ("请拨打96120。", "phone"),
        ("请致电{办公室电 话}。", "placeholder"),  # a space: residents would read the braces
        ("请致电{街道电话}。", "placeholder"),
        ("诈骗请拨打110或96110，法律咨询12348，消费投诉12315。", None),
        ("借款5000000元，利率3.85%，2021年1月1日起。", None),
    ],
)
def test_text_checks(answer: str, kind: str | None) -> None:
    entry = Entry(None, "services", "问", answer)
    assert [f.kind for f in text_findings(entry, {})] == ([kind] if kind else [])


def test_the_rendered_reply_must_fit_wechats_limit() -> None:
    entry = Entry(None, "services", "问", "很长的答案。" * 200)
    findings = text_findings(entry, {})
    assert [f.kind for f in findings] == ["length"]
    assert str(MAX_REPLY_BYTES) in findings[0].message


def test_an_alternate_that_another_entry_answers_is_caught_and_fixing_it_clears_it(
    db: Database, live: MatchIndex
) -> None:
    divorce = get_entry(db, 1)
    taken = divorce.alternates[0]
    colliding = Entry(**{**PARROT.__dict__, "alternates": [*PARROT.alternates, taken]})
    report = check_entry(db, colliding, live)
    warnings = [f for f in report.findings if f.severity == "warning"]
    assert warnings and all(f.entry_id == 1 for f in warnings)
    assert any(taken in f.message for f in warnings)
    assert kinds(PARROT, db, live) == []


def test_an_exact_copy_of_another_entrys_alternate_is_a_collision_whatever_the_tie_order(
    db: Database, live: MatchIndex
) -> None:
    taken = get_entry(db, 1).alternates[0]
    colliding = Entry(**{**PARROT.__dict__, "alternates": [*PARROT.alternates, taken]})
    found = [f for f in check_entry(db, colliding, live).findings if f.kind == "collision"]
    assert [f.entry_id for f in found] == [1]
    assert f"问法“{taken}”会被条目1" in found[0].message


def test_a_phrasing_another_entry_answers_and_unlike_the_rest_of_the_draft_is_caught(
    db: Database, live: MatchIndex
) -> None:
    # Residents asking this get the cooling-off entry today; on a parrot entry they would
    # get the parrot answer instead, with nothing else in the draft about divorce.
    asked = "离婚冷静期多久"
    today = live.match(asked)
    assert today.band == "answer" and today.best is not None
    misplaced = Entry(**{**PARROT.__dict__, "alternates": [*PARROT.alternates, asked]})
    found = [f for f in check_entry(db, misplaced, live).findings if f.kind == "belongs_elsewhere"]
    assert [f.entry_id for f in found] == [today.best.entry_id]
    # A phrasing about the draft's own subject that a broader entry answers today (a parrot
    # at night is noise) is a specialisation, not a mistake.
    assert "belongs_elsewhere" not in kinds(PARROT, db, live)


def test_a_draft_that_would_take_another_entrys_phrasing_is_caught(
    db: Database, live: MatchIndex
) -> None:
    divorce = get_entry(db, 1)
    # The new entry's question is the old entry's alternate, word for word.
    copy = Entry(None, "marriage", divorce.alternates[1], "另一个答案。")
    found = {f.kind: f for f in check_entry(db, copy, live).findings}
    assert "takeover" in found or "collision" in found or "near" in found
    assert any(f.entry_id == 1 for f in found.values())


#: The shipped entries are checked in this many parts (each entry in one), which the
#: test workers share. An unchanged entry is checked on the live index (~0.05 s of CPU
#: each); an edited one still builds an index of it and the others (~0.14 s).
CHECK_PARTS = 6


@pytest.mark.parametrize("part", range(CHECK_PARTS))
def test_every_shipped_entry_passes_without_errors_and_the_check_is_interactive(
    db: Database, live: MatchIndex, part: int
) -> None:
    # CPU time, not wall time: on a machine shared by many test runs the wall clock
    # measures the queue for the cores, not the check (0.13 s median, 0.25 s at most
    # standalone on 2 cores).
    entries = published_entries(db)
    assert len(entries) >= 2 * CHECK_PARTS
    slowest = 0.0
    for entry in entries[part::CHECK_PARTS]:
        started = time.process_time()
        report = check_entry(db, entry, live)
        slowest = max(slowest, time.process_time() - started)
        assert report.errors == [], (entry.id, report.errors)
    assert slowest < 1.0


def test_a_question_for_a_fact_on_an_answer_opening_yes_is_flagged(
    db: Database, live: MatchIndex
) -> None:
    bird = Entry(
        **{
            **PARROT.__dict__,
            "question": "楼上养的鹦鹉天天半夜学打鸣，能管吗？",
            "answer": "能。" + PARROT.answer,
        }
    )
    assert "yes_no" not in kinds(bird, db, live)
    asked_when = Entry(
        **{**bird.__dict__, "alternates": [*bird.alternates, "鹦鹉半夜几点叫算扰民"]}
    )
    report = check_entry(db, asked_when, live)
    [finding] = [f for f in report.findings if f.kind == "yes_no"]
    assert "鹦鹉半夜几点叫算扰民" in finding.message and finding.severity == "warning"


#: Every this-many-th shipped entry is checked both ways below (~0.2 s each the old way).
REFERENCE_SAMPLE_STEP = 16


def _reference_findings(
    db: Database, entry: Entry, before: MatchIndex | None = None
) -> list[Finding]:
    """The findings as checks made them before the live index was reused: every check
    builds an index of the entry and the others, and prepares every phrasing afresh.
    ``before`` is today's index (by default a new one of the published entries)."""
    entry_checks._PAIRS.clear()
    published = published_entries(db)
    others = [other for other in published if other.id != entry.id]
    synonyms = synonym_groups(db)
    today = before or MatchIndex(published, synonyms)
    findings = [
        *law_findings(entry),
        *text_findings(entry, get_settings(db)),
        *collision_findings(entry, others, synonyms, today),
    ]
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda finding: order[finding.severity])


def test_an_unchanged_entry_checked_on_the_live_index_finds_what_a_rebuilt_index_finds(
    db: Database, live: MatchIndex
) -> None:
    published = published_entries(db)
    sample = published[::REFERENCE_SAMPLE_STEP]
    assert entry_checks._holds_published(db, live, published)
    found_any = False
    for entry in sample:
        expected = _reference_findings(db, entry)
        assert check_entry(db, entry, live).findings == expected, entry.id
        found_any = found_any or any(f.severity == "warning" for f in expected)
    # The sample must hold warnings, or equal findings would prove little.
    assert found_any


def test_an_edited_entry_is_checked_on_an_index_of_its_edit_with_the_same_findings(
    db: Database, live: MatchIndex
) -> None:
    divorce = get_entry(db, 1)
    taken = get_entry(db, 2).question
    edited = replace(divorce, alternates=[*divorce.alternates, taken])
    expected = _reference_findings(db, edited)
    assert any(f.kind == "collision" and f.entry_id == 2 for f in expected)
    # Twice: the second check reads the other entries' phrasings from the memo.
    assert check_entry(db, edited, live).findings == expected
    assert check_entry(db, edited, live).findings == expected


def test_the_live_index_is_reused_only_when_it_holds_the_published_entries_now(
    db: Database, live: MatchIndex
) -> None:
    published = published_entries(db)
    synonyms = synonym_groups(db)
    generation = content_generation(db)
    assert entry_checks._holds_published(db, live, published)
    missing_one = MatchIndex(published[1:], synonyms, generation=generation)
    assert not entry_checks._holds_published(db, missing_one, published)
    stale = MatchIndex(published, synonyms, generation=generation - 1)
    assert not entry_checks._holds_published(db, stale, published)
    # Given an index that lacks it, the check builds the index of the entry and the
    # others rather than answering the entry's phrasings on that one.
    assert check_entry(db, published[0], missing_one).findings == _reference_findings(
        db, published[0], missing_one
    )
