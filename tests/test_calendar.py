"""The publicity calendar: rules across years against the reference's known dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from flask.testing import FlaskCliRunner
from sqlite_utils import Database

from knowledge.laws import parse_ref
from knowledge.store import published_entries
from scheduler.calendar import (
    CalendarError,
    add_local_day,
    day_definitions,
    days_in,
    find_day,
    next_12_months,
    set_window,
    suggested_send_time,
)
from scheduler.suggestions import suggested_text

# From /work/shared/reference/publicity_days.md (lunar-python, cross-checked with lunardate).
ELDERS_DAY = {
    2025: date(2025, 10, 29),
    2026: date(2026, 10, 18),
    2027: date(2027, 10, 8),
    2028: date(2028, 10, 26),
    2029: date(2029, 10, 16),
    2030: date(2030, 10, 5),
}
AUTUMN_EQUINOX = {
    2025: date(2025, 9, 23),
    2026: date(2026, 9, 23),
    2027: date(2027, 9, 23),
    2028: date(2028, 9, 22),
    2029: date(2029, 9, 23),
    2030: date(2030, 9, 23),
}


def _on(year: int, key: str, db: Database | None = None) -> date:
    return next(day.start for day in days_in(year, db) if day.key == key)


@pytest.mark.parametrize("year", sorted(ELDERS_DAY))
def test_lunar_and_solar_term_days_match_the_reference(year: int) -> None:
    assert _on(year, "elders_day") == ELDERS_DAY[year]
    assert _on(year, "harvest_festival") == AUTUMN_EQUINOX[year]


def test_disability_day_is_the_third_sunday_of_may() -> None:
    assert _on(2025, "disability_day") == date(2025, 5, 18)
    assert _on(2026, "disability_day") == date(2026, 5, 17)
    for year in range(2025, 2035):
        day = _on(year, "disability_day")
        assert day.weekday() == 6 and day.month == 5 and 15 <= day.day <= 21


def test_national_defence_education_day_is_the_third_saturday_of_september() -> None:
    # 国防教育法第十二条: 每年九月的第三个星期六为全民国防教育日。
    assert _on(2025, "national_defence_education_day") == date(2025, 9, 20)
    assert _on(2026, "national_defence_education_day") == date(2026, 9, 19)
    assert _on(2027, "national_defence_education_day") == date(2027, 9, 18)
    for year in range(2025, 2035):
        day = _on(year, "national_defence_education_day")
        assert day.weekday() == 5 and day.month == 9 and 15 <= day.day <= 21


def test_january_holds_a_publicity_day() -> None:
    assert any(day.start.month == 1 for day in days_in(2027))


@pytest.mark.parametrize(
    "key",
    [
        "fire_safety_day",
        "disability_day",
        "environment_day",
        "fitness_day",
        "safety_production_month",
        "shandong_bird_week",
        "charity_day",
        "national_defence_education_day",
    ],
)
def test_days_of_the_publicity_laws_suggest_an_entry_under_their_law(
    db: Database, key: str
) -> None:
    (day,) = [day for day in days_in(2027, db) if day.key == key]
    text = suggested_text(db, day)
    question = text.split("\n")[1].removeprefix("问：")
    (entry,) = [entry for entry in published_entries(db) if entry.question == question]
    cited = {ref.law for ref in map(parse_ref, entry.law_refs) if ref is not None}
    assert cited & set(day.laws), (key, entry.question, entry.law_refs)


@pytest.mark.parametrize(
    ("key", "month", "day"),
    [
        ("national_security", 4, 15),
        ("constitution_day", 12, 4),
        ("anti_drug_day", 6, 26),
        ("consumer_day", 3, 15),
        ("civil_code_anniversary", 5, 28),
        ("traffic_safety_day", 12, 2),
        ("police_day", 1, 10),
    ],
)
def test_fixed_days_fall_on_their_date_every_year(key: str, month: int, day: int) -> None:
    for year in (2026, 2027, 2032):
        assert _on(year, key) == date(year, month, day)


def test_every_rule_kind_is_in_the_data_file() -> None:
    kinds = {record["rule"]["kind"] for record in day_definitions()}
    assert kinds == {"fixed", "nth_weekday", "lunar", "solar_term", "week_of", "window"}


def test_family_education_week_is_the_week_holding_15_may() -> None:
    for year, monday in (
        (2026, date(2026, 5, 11)),
        (2027, date(2027, 5, 10)),
        (2028, date(2028, 5, 15)),
    ):
        week = next(day for day in days_in(year) if day.key == "family_education_week")
        assert (week.start, week.end) == (monday, monday + timedelta(days=6))
        assert week.covers(date(year, 5, 15))


def test_an_annual_window_uses_the_usual_dates_until_staff_set_the_year(db: Database) -> None:
    month = find_day(db, "antifraud_month", 2027)
    assert month is not None and month.start == date(2027, 6, 15)
    set_window(db, "antifraud_month", 2027, "06-16", "07-16", "张编辑")
    changed = find_day(db, "antifraud_month", 2027)
    assert changed is not None
    assert (changed.start, changed.end) == (date(2027, 6, 16), date(2027, 7, 16))
    other_year = find_day(db, "antifraud_month", 2028)
    assert other_year is not None and other_year.start == date(2028, 6, 15)
    audit = db.execute("SELECT action, object_id FROM audit_log").fetchall()
    assert ("set_window", "antifraud_month") in audit


@pytest.mark.parametrize(
    ("key", "start", "end", "message"),
    [
        ("national_security", "04-15", "04-16", "不是每年公布日期"),
        ("shandong_rule_of_law_month", "12-01", "12-31", "不是每年公布日期"),
        ("antifraud_month", "06-31", "07-16", "无效"),
        ("antifraud_month", "07-16", "06-16", "早于"),
    ],
)
def test_bad_windows_are_refused(
    db: Database, key: str, start: str, end: str, message: str
) -> None:
    with pytest.raises(CalendarError, match=message):
        set_window(db, key, 2027, start, end, "张编辑")
    assert db["publicity_windows"].count == 0


def test_staff_add_a_local_day(db: Database) -> None:
    add_local_day(
        db,
        "taishan_ecology",
        "泰山景区生态保护日",
        "06-09",
        ["泰山风景名胜区生态保护条例"],
        [],
        "张编辑",
    )
    for year in (2026, 2027):
        day = find_day(db, "taishan_ecology", year)
        assert day is not None and day.start == date(year, 6, 9) and day.local
        assert day.laws == ("泰山风景名胜区生态保护条例",)
    with pytest.raises(CalendarError, match="全国宣传日"):
        add_local_day(db, "constitution_day", "宪法日", "12-04", [], [], "张编辑")
    with pytest.raises(CalendarError, match="无效"):
        add_local_day(db, "bad_date", "某日", "13-01", [], [], "张编辑")


def test_next_12_months_spans_the_year_ahead_in_order() -> None:
    days = next_12_months(date(2026, 12, 5))
    assert days[0].start >= date(2026, 12, 1)  # the December windows still open
    assert all(day.start < date(2027, 12, 5) for day in days)
    assert [d.start for d in days] == sorted(d.start for d in days)
    keys = [d.key for d in days]
    assert "elders_day" in keys and "constitution_day" not in keys[:1]
    assert next(d.start for d in days if d.key == "elders_day") == date(2027, 10, 8)


def test_calendar_command_prints_one_line_per_day(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["campaigns", "calendar", "--year", "2027"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "2027-10-08  老年节（重阳节）  农历9月9日" in lines
    assert "2027-09-23  中国农民丰收节  节气秋分" in lines
    assert "2027-05-16  全国助残日  每年5月第3个星期日" in lines
    assert any(line.startswith("2027-05-01～2027-05-31  民法典宣传月") for line in lines)
    assert len(lines) == len(days_in(2027))


def test_local_day_and_window_commands(runner: FlaskCliRunner) -> None:
    result = runner.invoke(
        args=[
            "campaigns",
            "local-day",
            "taishan_ecology",
            "--name",
            "泰山景区生态保护日",
            "--date",
            "06-09",
            "--law",
            "泰山风景名胜区生态保护条例",
            "--by",
            "张编辑",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "campaigns",
            "window",
            "constitution_week",
            "--year",
            "2027",
            "--start",
            "11-29",
            "--end",
            "12-05",
            "--by",
            "张编辑",
        ]
    )
    assert result.exit_code == 0, result.output
    lines = runner.invoke(args=["campaigns", "calendar", "--year", "2027"]).output.splitlines()
    assert "2027-06-09  泰山景区生态保护日  每年6月9日（本地）" in lines
    assert any(line.startswith("2027-11-29～2027-12-05  宪法宣传周") for line in lines)
    refused = runner.invoke(
        args=[
            "campaigns",
            "window",
            "constitution_day",
            "--year",
            "2027",
            "--start",
            "12-01",
            "--end",
            "12-07",
            "--by",
            "张编辑",
        ]
    )
    assert refused.exit_code == 1 and "不是每年公布日期" in refused.output


@pytest.mark.parametrize(
    ("on", "now", "expected"),
    [
        # The day still ahead: its morning.
        (date(2027, 4, 15), datetime(2027, 4, 1, 20, 0), datetime(2027, 4, 15, 9, 0)),
        (date(2027, 4, 15), datetime(2027, 4, 15, 8, 0), datetime(2027, 4, 15, 9, 0)),
        # A window under way (it opened on the 1st): the next whole hour 30–90 minutes on.
        (date(2026, 12, 1), datetime(2026, 12, 8, 10, 10), datetime(2026, 12, 8, 11, 0)),
        (date(2026, 12, 1), datetime(2026, 12, 8, 10, 50), datetime(2026, 12, 8, 12, 0)),
        # Too late in the evening: the next morning.
        (date(2026, 12, 1), datetime(2026, 12, 8, 20, 0), datetime(2026, 12, 8, 21, 0)),
        (date(2026, 12, 1), datetime(2026, 12, 8, 20, 40), datetime(2026, 12, 9, 9, 0)),
        (date(2026, 12, 1), datetime(2026, 12, 8, 23, 30), datetime(2026, 12, 9, 9, 0)),
    ],
)
def test_a_planned_campaign_never_defaults_to_a_time_already_past(
    on: date, now: datetime, expected: datetime
) -> None:
    beijing = timezone(timedelta(hours=8))
    suggested = suggested_send_time(on, now.replace(tzinfo=beijing))
    assert suggested == expected.replace(tzinfo=beijing)
    assert suggested > now.replace(tzinfo=beijing)
