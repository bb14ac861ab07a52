"""The publicity calendar: which legal publicity days fall when, in any year.

The days themselves are data (``scheduler/publicity_days.yaml``, from the team's
reference); this module only knows the kinds of rule: a fixed date, the n-th weekday
of a month, a lunar date and a solar term (both through lunar-python), and an annual window
whose exact dates are announced each year — staff set them per year (table
``publicity_windows``), the file's usual window applies until they do — plus the week
(Monday to Sunday) that contains a date (全国家庭教育宣传周: the week of 15 May). Staff add the
office's own local days (table ``local_publicity_days``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from lunar_python import Lunar
from sqlite_utils import Database

from knowledge.audit import record_audit
from knowledge.db import write
from knowledge.store import SHANGHAI

DAYS_FILE = Path(__file__).with_name("publicity_days.yaml")
RULE_KINDS = ("fixed", "nth_weekday", "lunar", "solar_term", "week_of", "window")
_WEEKDAYS = "一二三四五六日"
_MONTH_DAY = re.compile(r"^(\d{1,2})-(\d{1,2})$")


class CalendarError(ValueError):
    """A calendar change that cannot be made; the message is for staff."""


@dataclass(frozen=True)
class PublicityDay:
    """One publicity day as it falls in a given year (``end`` is set for windows)."""

    key: str
    name: str
    start: date
    end: date | None
    rule: str
    laws: tuple[str, ...]
    topics: tuple[str, ...]
    local: bool = False
    hints: tuple[str, ...] = ()

    def covers(self, day: date) -> bool:
        """Whether ``day`` lies on this day (or inside its window)."""
        return self.start <= day <= (self.end or self.start)


@cache
def day_definitions() -> tuple[dict[str, Any], ...]:
    """The shipped days as read from the data file (checked once per process)."""
    records = yaml.safe_load(DAYS_FILE.read_text(encoding="utf-8"))
    for record in records:
        if record["rule"]["kind"] not in RULE_KINDS:
            raise ValueError(f"{DAYS_FILE}: {record['key']}: unknown rule {record['rule']}")
    return tuple(records)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    offset = (weekday - 1 - first.weekday()) % 7
    return first + timedelta(days=offset + 7 * (n - 1))


def _solar_term(year: int, term: str) -> date:
    # The table of a lunar year holds the terms around it; pick the one in this solar year.
    for lunar_year in (year, year - 1, year + 1):
        solar = Lunar.fromYmd(lunar_year, 1, 1).getJieQiTable().get(term)
        if solar is not None and solar.getYear() == year:
            return date(solar.getYear(), solar.getMonth(), solar.getDay())
    raise ValueError(f"solar term {term} not found in {year}")


def _lunar_date(year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def parse_month_day(text: str, year: int) -> date:
    """``MM-DD`` in ``year`` as a date; CalendarError with a Chinese message if invalid."""
    match = _MONTH_DAY.match(text.strip())
    try:
        if not match:
            raise ValueError
        return date(year, int(match[1]), int(match[2]))
    except ValueError:
        raise CalendarError(f"日期“{text}”无效，请写成 月-日，如 06-09。") from None


def _describe(rule: dict[str, Any]) -> str:
    kind = rule["kind"]
    if kind == "fixed":
        return f"每年{rule['month']}月{rule['day']}日"
    if kind == "nth_weekday":
        return f"每年{rule['month']}月第{rule['n']}个星期{_WEEKDAYS[rule['weekday'] - 1]}"
    if kind == "lunar":
        return f"农历{rule['lunar_month']}月{rule['lunar_day']}日"
    if kind == "solar_term":
        return f"节气{rule['term']}"
    if kind == "week_of":
        return f"每年{rule['month']}月{rule['day']}日所在的一周（周一至周日）"
    if rule.get("announced", True):
        return f"每年公布（通常{rule['start']}至{rule['end']}）"
    return f"每年{rule['start']}至{rule['end']}"


def _dates(rule: dict[str, Any], year: int, window: tuple[str, str] | None) -> tuple[date, date]:
    kind = rule["kind"]
    if kind == "fixed":
        day = date(year, rule["month"], rule["day"])
    elif kind == "nth_weekday":
        day = _nth_weekday(year, rule["month"], rule["weekday"], rule["n"])
    elif kind == "lunar":
        day = _lunar_date(year, rule["lunar_month"], rule["lunar_day"])
    elif kind == "solar_term":
        day = _solar_term(year, rule["term"])
    elif kind == "week_of":
        anchor = date(year, rule["month"], rule["day"])
        monday = anchor - timedelta(days=anchor.weekday())
        return monday, monday + timedelta(days=6)
    else:
        start, end = window or (rule["start"], rule["end"])
        return parse_month_day(start, year), parse_month_day(end, year)
    return day, day


def days_in(year: int, db: Database | None = None) -> list[PublicityDay]:
    """Every publicity day of ``year`` by date: the shipped ones and, given ``db``, local ones.

    Windows use the dates staff set for that year, else the usual window.
    """
    windows: dict[str, tuple[str, str]] = {}
    local: list[dict[str, Any]] = []
    if db is not None:
        for row in db["publicity_windows"].rows_where("year = ?", [year]):
            windows[row["day_key"]] = (row["start"], row["end"])
        local = list(db["local_publicity_days"].rows)
    days = []
    for record in day_definitions():
        rule = record["rule"]
        start, end = _dates(rule, year, windows.get(record["key"]))
        kind_note = "（本年已设定）" if record["key"] in windows else ""
        days.append(
            PublicityDay(
                key=record["key"],
                name=record["name"],
                start=start,
                end=end if rule["kind"] in ("window", "week_of") else None,
                rule=_describe(rule) + kind_note,
                laws=tuple(record["laws"]),
                topics=tuple(record["topics"]),
                hints=tuple(record.get("hints", ())),
            )
        )
    for row in local:
        days.append(
            PublicityDay(
                key=row["key"],
                name=row["name"],
                start=_local_date(year, row["month"], row["day"]),
                end=None,
                rule=f"每年{row['month']}月{row['day']}日（本地）",
                laws=tuple(json.loads(row["laws"])),
                topics=tuple(json.loads(row["topics"])),
                local=True,
            )
        )
    return sorted(days, key=lambda day: (day.start, day.end or day.start, day.name))


def last_listed_day(today: date) -> date:
    """The last day :func:`next_12_months` lists: the day before ``today`` a year later."""
    return _add_year(today) - timedelta(days=1)


def next_12_months(today: date, db: Database | None = None) -> list[PublicityDay]:
    """The publicity days from ``today`` to the same date a year later (windows still open too)."""
    until = last_listed_day(today)
    found = [
        day
        for year in (today.year, today.year + 1)
        for day in days_in(year, db)
        if (day.end or day.start) >= today and day.start <= until
    ]
    return sorted(found, key=lambda day: (day.start, day.name))


def _add_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _local_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:  # 29 February outside a leap year
        return date(year, month, day - 1)


def find_day(db: Database, key: str, year: int) -> PublicityDay | None:
    """The publicity day ``key`` as it falls in ``year``, or None for an unknown key."""
    return next((day for day in days_in(year, db) if day.key == key), None)


def _announced(rule: dict[str, Any]) -> bool:
    return rule["kind"] == "window" and rule.get("announced", True)


def set_window(db: Database, key: str, year: int, start: str, end: str, by: str) -> None:
    """Set this year's announced dates (``MM-DD``) of the annual window ``key``."""
    record = next((r for r in day_definitions() if r["key"] == key), None)
    if record is None or not _announced(record["rule"]):
        keys = "、".join(r["key"] for r in day_definitions() if _announced(r["rule"]))
        raise CalendarError(f"“{key}”不是每年公布日期的宣传活动；可设定的有：{keys}")
    first, last = parse_month_day(start, year), parse_month_day(end, year)
    if last < first:
        raise CalendarError("结束日期早于开始日期。")
    row = {
        "day_key": key,
        "year": year,
        "start": first.strftime("%m-%d"),
        "end": last.strftime("%m-%d"),
        "updated_by": by,
    }
    with write(db):
        db["publicity_windows"].upsert(row, pk=("day_key", "year"))
        record_audit(
            db, by, "set_window", "publicity_day", key, f"{year}年{record['name']}", after=row
        )


def add_local_day(
    db: Database,
    key: str,
    name: str,
    month_day: str,
    laws: list[str],
    topics: list[str],
    by: str,
) -> None:
    """Add (or change) a local publicity day held every year on ``month_day`` (``MM-DD``)."""
    name = name.strip()
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", key):
        raise CalendarError("标识只能用小写字母、数字和下划线，以字母开头，如 taishan_ecology。")
    if not name or len(name) > 40:
        raise CalendarError("名称不能为空，且不超过40个字。")
    if any(r["key"] == key for r in day_definitions()):
        raise CalendarError(f"“{key}”已是全国宣传日的标识，请换一个。")
    day = parse_month_day(month_day, 2000)  # a leap year: 02-29 is allowed
    row = {
        "key": key,
        "name": name,
        "month": day.month,
        "day": day.day,
        "laws": json.dumps([law.strip() for law in laws if law.strip()], ensure_ascii=False),
        "topics": json.dumps(topics, ensure_ascii=False),
        "created_by": by,
    }
    with write(db):
        db["local_publicity_days"].upsert(row, pk="key")
        record_audit(db, by, "add_local_day", "publicity_day", key, name, after=row)


def format_day(day: PublicityDay) -> str:
    """One line of ``flask campaigns calendar``: date (or range), name, rule."""
    when = day.start.isoformat()
    if day.end is not None and day.end != day.start:
        when += f"～{day.end.isoformat()}"
    return f"{when}  {day.name}  {day.rule}"


#: When a planned campaign goes out unless staff choose otherwise (Beijing time).
DEFAULT_SEND_TIME = time(9, 0)


def suggested_send_time(on: date, now: datetime) -> datetime:
    """When a campaign planned for the day ``on`` should go out by default (Beijing time).

    ``on`` at 09:00 while that is still ahead; for a day or window already under way, the
    next whole hour at least 30 minutes from ``now`` — or 09:00 the next morning once that
    would fall after 21:00, when residents should not be woken by a broadcast.
    """
    now = now.astimezone(SHANGHAI)
    planned = datetime.combine(on, DEFAULT_SEND_TIME, SHANGHAI)
    if planned > now:
        return planned
    soon = (now + timedelta(minutes=90)).replace(minute=0, second=0, microsecond=0)
    if soon.time() > time(21, 0) or soon.date() > now.date():
        return datetime.combine(now.date() + timedelta(days=1), DEFAULT_SEND_TIME, SHANGHAI)
    return soon
