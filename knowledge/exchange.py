"""Import and export entries as JSON, YAML or CSV files that staff edit by hand or in Excel.

Every format holds a list of records with the fields in :data:`FIELDS`. In CSV each record
is a row, and list fields hold one item per line inside their cell; CSV is written as UTF-8
with a BOM so that Excel shows Chinese intact, and read with or without the BOM (or, failing
UTF-8, as GB18030, which is what Excel on a Chinese Windows saves).

Import checks every record before writing anything, then writes all of them in one
transaction. A record whose question (normalised) matches an existing entry becomes a new
version of that entry, changing only the fields the record holds; an identical record
changes nothing; any other record becomes a new entry, as a draft unless it names a status.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import yaml
from sqlite_utils import Database

from knowledge.db import write
from knowledge.entries import Entry, EntryError, entry_from_record
from knowledge.matching.normalize import plain_word
from knowledge.spreadsheet import cell_from_spreadsheet, spreadsheet_row
from knowledge.store import add_entries, list_entries, update_entry
from knowledge.topic_store import known_topics

log = logging.getLogger(__name__)

#: The fields of a record, in the order files list them.
FIELDS = ("question", "alternates", "answer", "topic", "law_refs", "keywords", "status")
_LIST_FIELDS = ("alternates", "law_refs", "keywords")
FORMATS = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}
DEFAULT_IMPORT_STATUS = "draft"


class ExchangeError(Exception):
    """A file that cannot be imported or exported; the message is written for staff."""


@dataclass(frozen=True)
class RecordProblem:
    """What is wrong with one record of an import file."""

    position: int
    question: str | None
    field: str
    message: str

    def __str__(self) -> str:
        quoted = f"（“{_shorten(self.question)}”）" if self.question else ""
        return f"第{self.position}条记录{quoted}字段 {self.field}：{self.message}"


class InvalidRecordsError(ExchangeError):
    """Some records of an import file are wrong; nothing was imported."""

    def __init__(self, problems: list[RecordProblem]) -> None:
        self.problems = problems
        lines = [f"文件中有{len(problems)}处错误，未导入任何条目：", *map(str, problems)]
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class ImportResult:
    """How many entries an import created, changed, and found already identical."""

    created: int
    updated: int
    unchanged: int

    def __str__(self) -> str:
        return f"导入完成：新增{self.created}条，更新{self.updated}条，未变{self.unchanged}条。"


def _shorten(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def file_format(path: PurePath) -> str:
    """ "json", "yaml" or "csv" from the file name; :class:`ExchangeError` for anything else."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ExchangeError(
            f"不支持的文件类型“{path.suffix or path.name}”：请用 .json、.yaml、.yml 或 .csv"
        )
    return fmt


def decode_text(data: bytes, fmt: str, path: PurePath) -> str:
    """A file's bytes as text: UTF-8 with or without BOM, or GB18030 for CSV from Excel."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        if fmt == "csv":
            try:
                return data.decode("gb18030")
            except UnicodeDecodeError:
                pass
        raise ExchangeError(f"{path.name} 不是 UTF-8 编码的文本文件") from None


def _parse_csv(text: str) -> list[dict[str, Any]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = list(reader)
    if not rows:
        raise ExchangeError("CSV 文件是空的：第一行应为表头（question, answer, topic …）")
    header = [name.strip() for name in rows[0]]
    unknown = [name for name in header if name and name not in FIELDS]
    if unknown:
        raise ExchangeError(
            f"CSV 表头有未知的列：{'、'.join(unknown)}；第一行应为表头，可用列：{', '.join(FIELDS)}"
        )
    records: list[dict[str, Any]] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # Excel leaves rows of empty cells behind.
        if len(row) > len(header):
            raise ExchangeError(f"CSV 第{number}行的单元格比表头多（表头{len(header)}列）")
        records.append(
            {
                name: cell_from_spreadsheet(cell)
                for name, cell in zip(header, row, strict=False)
                if name
            }
        )
    return records


def parse_records(text: str, fmt: str) -> list[Any]:
    """The records in a file's text; :class:`ExchangeError` if it is not a list of records."""
    try:
        if fmt == "json":
            data = json.loads(text)
        elif fmt == "yaml":
            data = yaml.safe_load(text)
        else:
            data = _parse_csv(text)
    except json.JSONDecodeError as error:
        raise ExchangeError(
            f"JSON 格式错误（第{error.lineno}行第{error.colno}列）：{error.msg}"
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"（第{mark.line + 1}行第{mark.column + 1}列）" if mark else ""
        raise ExchangeError(f"YAML 格式错误{where}：{getattr(error, 'problem', error)}") from None
    except csv.Error as error:
        raise ExchangeError(f"CSV 格式错误：{error}") from None
    if data is None:
        return []
    if not isinstance(data, list):
        raise ExchangeError("文件内容应为条目的列表（每个条目一个对象），而不是单个对象或数值")
    return data


def read_records(path: Path) -> list[Any]:
    """Read and parse an import file; :class:`ExchangeError` for a missing or malformed file."""
    fmt = file_format(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExchangeError(f"找不到文件：{path}") from None
    except OSError as error:
        raise ExchangeError(f"无法读取文件 {path}：{error.strerror}") from None
    return parse_records(decode_text(data, fmt, path), fmt)


def _question_of(record: Any) -> str | None:
    if isinstance(record, dict) and isinstance(record.get("question"), str):
        return record["question"].strip() or None
    return None


def _changes(record: dict[str, Any], entry: Entry, current: Entry) -> dict[str, Any]:
    """The fields the record holds whose checked value differs from the current entry.

    A blank status keeps the entry's status: an empty cell must not unpublish an entry.
    """
    held = [name for name in FIELDS if name in record and (name != "status" or record[name])]
    return {
        name: getattr(entry, name)
        for name in held
        if getattr(entry, name) != getattr(current, name)
    }


@dataclass
class _Plan:
    creations: list[Entry]
    updates: list[tuple[int, dict[str, Any]]]
    unchanged: int


def _plan_import(db: Database, records: list[Any]) -> _Plan:
    """Check every record and decide what each does; raise with every problem found."""
    # A record updates the entry with the same question, punctuation and script aside: not
    # the matcher's clean_text, which drops stock endings ("能要回来吗") and would merge two
    # questions that only differ there.
    existing: dict[str, Entry] = {}
    for current in list_entries(db):
        existing.setdefault(plain_word(current.question), current)
    topics = known_topics(db)
    problems: list[RecordProblem] = []
    seen: dict[str, int] = {}
    plan = _Plan([], [], 0)
    for position, record in enumerate(records, start=1):
        question = _question_of(record)
        unknown = (
            sorted(str(name) for name in record if name not in FIELDS)
            if isinstance(record, dict)
            else []
        )
        if unknown:
            problems.append(
                RecordProblem(
                    position, question, unknown[0], f"未知字段，可用字段：{', '.join(FIELDS)}"
                )
            )
            continue
        try:
            entry = entry_from_record(record, DEFAULT_IMPORT_STATUS, topics)
        except EntryError as error:
            problems.append(RecordProblem(position, question, error.field, error.message))
            continue
        key = plain_word(entry.question)
        if key in seen:
            problems.append(
                RecordProblem(position, question, "question", f"与第{seen[key]}条记录的问题重复")
            )
            continue
        seen[key] = position
        current = existing.get(key)
        if current is None:
            plan.creations.append(entry)
            continue
        assert current.id is not None
        changes = _changes(record, entry, current)
        if changes:
            plan.updates.append((current.id, changes))
        else:
            plan.unchanged += 1
    if problems:
        raise InvalidRecordsError(problems)
    return plan


def import_records(db: Database, records: list[Any], by: str) -> ImportResult:
    """Check every record, then create or update entries in one transaction (all or nothing).

    Raises :class:`InvalidRecordsError` listing every bad record; nothing is written then.
    """
    with write(db):
        plan = _plan_import(db, records)
        add_entries(db, plan.creations, by)
        for entry_id, changes in plan.updates:
            update_entry(db, entry_id, changes, by)
    result = ImportResult(len(plan.creations), len(plan.updates), plan.unchanged)
    log.info(
        "import by %s: %d created, %d updated, %d unchanged",
        by,
        result.created,
        result.updated,
        result.unchanged,
    )
    return result


def import_file(db: Database, path: Path, by: str) -> ImportResult:
    """Import a JSON, YAML or CSV file of entries (see the module docstring for the rules)."""
    return import_records(db, read_records(path), by)


def entry_record(entry: Entry) -> dict[str, Any]:
    """An entry as a record of an export file, fields in :data:`FIELDS` order."""
    return {name: getattr(entry, name) for name in FIELDS}


class _LiteralDumper(yaml.SafeDumper):
    """Writes multi-line text as a ``|`` block, the way staff write answers by hand."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_LiteralDumper.add_representer(str, _represent_text)


def format_records(records: list[dict[str, Any]], fmt: str) -> str:
    """The text of an export file in ``fmt`` ("json", "yaml" or "csv")."""
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    if fmt == "yaml":
        return yaml.dump(
            records, Dumper=_LiteralDumper, allow_unicode=True, sort_keys=False, width=1000
        )
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(FIELDS)
    for record in records:
        writer.writerow(
            spreadsheet_row(
                [
                    "\n".join(record[name]) if name in _LIST_FIELDS else record[name]
                    for name in FIELDS
                ]
            )
        )
    return out.getvalue()


def export_file(db: Database, path: Path, status: str | None = None) -> int:
    """Write every entry (or those with ``status``) to ``path``; return how many were written."""
    fmt = file_format(path)
    records = [entry_record(entry) for entry in list_entries(db, status)]
    text = format_records(records, fmt)
    try:
        # utf-8-sig: Excel only reads a CSV as UTF-8 when it starts with a BOM.
        path.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="")
    except OSError as error:
        raise ExchangeError(f"无法写入文件 {path}：{error.strerror}") from None
    log.info("exported %d entries to %s", len(records), path)
    return len(records)
