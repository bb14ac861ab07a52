"""The sign-in lockout's three limits, on a real database with a clock the test moves."""

from __future__ import annotations

from sqlite_utils import Database

from knowledge.signin_attempts import (
    ACCOUNT_LIMIT,
    ADDRESS_LIMIT,
    FIRST_WAIT,
    FREE_FAILURES,
    LONGEST_WAIT,
    WINDOW,
    note_signin,
    signin_wait,
)

START = 1_800_000_000.0


def fail(db: Database, name: str, address: str, times: int, at: float) -> None:
    """Record ``times`` failed sign-ins, one second apart, ending at ``at``."""
    for n in range(times):
        note_signin(db, name, address, succeeded=False, now=at - (times - 1 - n))


def test_each_failure_after_five_doubles_the_wait_up_to_an_hour(bare_db: Database) -> None:
    fail(bare_db, "王", "a", FREE_FAILURES - 1, START)
    assert signin_wait(bare_db, "王", "a", START).seconds == 0
    waits = []
    now = START
    for _ in range(9):
        now += 1
        note_signin(bare_db, "王", "a", succeeded=False, now=now)
        waits.append(signin_wait(bare_db, "王", "a", now).seconds)
    assert waits == [min(FIRST_WAIT * 2**n, LONGEST_WAIT) for n in range(9)]
    assert waits[-1] == LONGEST_WAIT
    # The wait runs out, then the next failure locks for longer again.
    assert signin_wait(bare_db, "王", "a", now + LONGEST_WAIT).seconds == 0


def test_a_success_starts_the_count_again(bare_db: Database) -> None:
    fail(bare_db, "王", "a", FREE_FAILURES, START)
    later = START + FIRST_WAIT
    note_signin(bare_db, "王", "a", succeeded=True, now=later)
    note_signin(bare_db, "王", "a", succeeded=False, now=later + 1)
    assert signin_wait(bare_db, "王", "a", later + 1).seconds == 0


def test_failures_older_than_a_day_are_forgiven(bare_db: Database) -> None:
    fail(bare_db, "王", "a", FREE_FAILURES + 3, START)
    next_day = START + 24 * 3600 + 1
    note_signin(bare_db, "王", "a", succeeded=False, now=next_day)
    assert signin_wait(bare_db, "王", "a", next_day).seconds == 0
    note_signin(bare_db, "王", "a", succeeded=False, now=START + 60)
    assert signin_wait(bare_db, "王", "a", START + 60).seconds > 0


def test_one_address_trying_many_names_waits_for_the_hour(bare_db: Database) -> None:
    for n in range(ADDRESS_LIMIT):
        note_signin(bare_db, f"name{n}", "a", succeeded=False, now=START + n)
    wait = signin_wait(bare_db, "anyone", "a", START + ADDRESS_LIMIT)
    assert wait.reason == "address" and 0 < wait.seconds <= WINDOW
    assert signin_wait(bare_db, "anyone", "b", START + ADDRESS_LIMIT).seconds == 0


def test_guessing_from_many_addresses_spares_addresses_the_account_used_before(
    bare_db: Database,
) -> None:
    note_signin(bare_db, "王", "office", succeeded=True, now=START - 3600)
    for n in range(ACCOUNT_LIMIT):
        note_signin(bare_db, "王", f"10.0.{n // 250}.{n % 250}", succeeded=False, now=START + n)
    now = START + ACCOUNT_LIMIT
    stranger = signin_wait(bare_db, "王", "192.0.2.1", now)
    assert stranger.reason == "account" and 0 < stranger.seconds <= WINDOW
    assert signin_wait(bare_db, "王", "office", now).seconds == 0
    assert signin_wait(bare_db, "李", "192.0.2.1", now).seconds == 0
    assert signin_wait(bare_db, "王", "192.0.2.1", START + WINDOW + ACCOUNT_LIMIT).seconds == 0


def test_names_are_compared_as_typed_without_surrounding_spaces(bare_db: Database) -> None:
    fail(bare_db, " 王 ", "a", FREE_FAILURES, START)
    assert signin_wait(bare_db, "王", "a", START).seconds > 0


def test_old_attempts_are_deleted(bare_db: Database) -> None:
    fail(bare_db, "王", "a", 3, START)
    note_signin(bare_db, "李", "b", succeeded=True, now=START + 31 * 24 * 3600)
    assert bare_db["signin_attempts"].count == 1
