"""``flask kb status`` and ``flask kb unanswered``: what an admin does from a terminal."""

from __future__ import annotations

import csv
from pathlib import Path

from flask.testing import FlaskClient, FlaskCliRunner
from sqlite_utils import Database

from knowledge.entries import Entry
from knowledge.store import create_entry, entry_versions, get_entry
from tests.api_support import ask

QUESTION = "楼上养的鹦鹉天天半夜学打鸣怎么办"


def test_publishing_and_archiving_reach_residents(
    runner: FlaskCliRunner, client: FlaskClient, db: Database
) -> None:
    entry = Entry(
        id=None,
        topic="property",
        question=QUESTION,
        alternates=["鹦鹉半夜叫", "邻居鹦鹉吵"],
        answer="先协商。",
    )
    entry_id = create_entry(db, entry, by="张编辑")
    assert ask(client, QUESTION)["entry_id"] != entry_id  # a draft answers nobody

    result = runner.invoke(args=["kb", "status", str(entry_id), "published", "--by", "王审核"])
    assert result.exit_code == 0, result.output
    assert "draft → published" in result.output
    assert ask(client, QUESTION)["entry_id"] == entry_id

    result = runner.invoke(args=["kb", "status", str(entry_id), "archived", "--by", "王审核"])
    assert result.exit_code == 0, result.output
    assert ask(client, QUESTION)["entry_id"] != entry_id
    versions = entry_versions(db, entry_id)
    assert [(v["status"], v["changed_by"]) for v in versions] == [
        ("draft", "张编辑"),
        ("published", "王审核"),
        ("archived", "王审核"),
    ]


def test_status_errors_are_clear_and_change_nothing(runner: FlaskCliRunner, db: Database) -> None:
    unknown = runner.invoke(args=["kb", "status", "999999", "published", "--by", "王审核"])
    assert unknown.exit_code != 0 and "没有编号为 999999 的条目" in unknown.output
    bad = runner.invoke(args=["kb", "status", "1", "gone", "--by", "王审核"])
    assert bad.exit_code != 0 and "gone" in bad.output
    nobody = runner.invoke(args=["kb", "status", "1", "archived"])
    assert nobody.exit_code != 0 and "--by" in nobody.output
    entry = get_entry(db, 1)
    assert entry is not None and entry.status == "published" and entry.version == 1
    same = runner.invoke(args=["kb", "status", "1", "published", "--by", "王审核"])
    assert same.exit_code == 0 and "未改动" in same.output
    assert get_entry(db, 1).version == 1


def test_unanswered_questions_are_listed_newest_first(
    runner: FlaskCliRunner, client: FlaskClient
) -> None:
    ask(client, "今天泰安天气怎么样")
    ask(client, "推荐个好吃的饭店")
    result = runner.invoke(args=["kb", "unanswered", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "推荐个好吃的饭店" in result.output and "天气" not in result.output


def test_unanswered_questions_export_to_a_csv_excel_reads(
    runner: FlaskCliRunner, client: FlaskClient, tmp_path: Path
) -> None:
    ask(client, "今天泰安天气怎么样")
    path = tmp_path / "unanswered.csv"
    result = runner.invoke(args=["kb", "unanswered", "--export", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    with path.open(encoding="utf-8-sig", newline="") as exported:
        rows = list(csv.reader(exported))
    assert rows[0] == ["时间（北京）", "处理", "居民的问题", "最接近的条目", "得分"]
    assert rows[1][1] in ("给了选项", "没答上") and rows[1][2] == "今天泰安天气怎么样"


def test_an_unwritable_export_is_a_clear_error(runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "missing-folder" / "unanswered.csv"
    result = runner.invoke(args=["kb", "unanswered", "--export", str(path)])
    assert result.exit_code != 0 and "无法写入文件" in result.output


def test_an_entry_whose_stored_data_no_longer_validates_is_refused_clearly(
    runner: FlaskCliRunner, db: Database
) -> None:
    # A law reference that the shipped text does not have (say, edited in the file by hand).
    db.execute("UPDATE entries SET law_refs = ? WHERE id = 1", ['["民法典第9999条"]'])
    result = runner.invoke(args=["kb", "status", "1", "archived", "--by", "王审核"])
    assert result.exit_code != 0
    assert "条目 1 不能改为 archived" in result.output and "9999" in result.output
    assert "Traceback" not in result.output
    entry = get_entry(db, 1)
    assert entry is not None and entry.status == "published" and entry.version == 1
