"""Import and export of entries as JSON, YAML and CSV: round trips, checks, all or nothing."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskCliRunner
from sqlite_utils import Database

from knowledge import schema
from knowledge.db import connect, migrate
from knowledge.exchange import (
    FIELDS,
    ExchangeError,
    InvalidRecordsError,
    export_file,
    import_file,
    import_records,
)
from knowledge.store import content_generation, entry_versions, get_entry, list_entries

RECORDS: list[dict[str, Any]] = [
    {
        "question": "离婚冷静期多久",
        "alternates": ["协议离婚要等多久", "冷静期30天怎么算", "离婚冷静期能撤回吗"],
        "answer": '协议离婚有30天冷静期（民法典第1077条）。\n\n有疑问拨打12348，或问"{服务大厅电话}"。',
        "topic": "marriage",
        "law_refs": ["民法典第1077条"],
        "keywords": ["冷静期", "协议离婚"],
        "status": "published",
    },
    {
        "question": "冒充公检法说我涉嫌洗钱，让转到“安全账户”，是真的吗？",
        "alternates": ["警察让我把钱转到安全账户", "公安打电话说我涉案", "说我银行卡涉嫌洗钱"],
        "answer": "是诈骗。公检法不会电话办案，也没有“安全账户”，马上挂断，拨打110或96110。",
        "topic": "antifraud",
        "law_refs": ["反电信网络诈骗法第1条", "反电信网络诈骗法第5条"],
        "keywords": [],
        "status": "draft",
    },
    {
        "question": '邻居的狗咬了我, 谁赔？ "逗号,引号"',
        "alternates": ["被狗咬了找谁", "狗主人不赔怎么办", "遛狗不拴绳咬人"],
        "answer": "饲养的动物造成他人损害的，动物饲养人或者管理人应当承担侵权责任（民法典第1245条）。",
        "topic": "tort",
        "law_refs": ["民法典第1245条"],
        "keywords": ["狗咬人"],
        "status": "in_review",
    },
]


@pytest.fixture
def empty_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated database with no entries at all."""
    database = connect(tmp_path / "empty.sqlite3")
    migrate(database, [schema.migrations])
    yield database
    database.close()


def records_of(db: Database) -> list[dict[str, Any]]:
    """Every entry as an export record, for comparisons."""
    return [{name: getattr(entry, name) for name in FIELDS} for entry in list_entries(db)]


def write_json(path: Path, records: Any) -> Path:
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml", ".csv"])
def test_round_trip_through_every_format(empty_db: Database, tmp_path: Path, suffix: str) -> None:
    result = import_file(empty_db, write_json(tmp_path / "in.json", RECORDS), by="导入")
    assert (result.created, result.updated, result.unchanged) == (3, 0, 0)
    exported = tmp_path / f"out{suffix}"
    assert export_file(empty_db, exported) == 3

    other = connect(tmp_path / "other.sqlite3")
    migrate(other, [schema.migrations])
    import_file(other, exported, by="导入")
    assert records_of(other) == records_of(empty_db) == RECORDS
    # Importing the export into the database it came from changes nothing.
    again = import_file(empty_db, exported, by="导入")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert all(len(entry_versions(empty_db, e.id or 0)) == 1 for e in list_entries(empty_db))
    other.close()


def test_yaml_export_is_readable_by_hand(empty_db: Database, tmp_path: Path) -> None:
    import_records(empty_db, RECORDS, by="导入")
    path = tmp_path / "out.yaml"
    export_file(empty_db, path)
    text = path.read_text(encoding="utf-8")
    assert "离婚冷静期多久" in text  # Chinese written as is, not \u escapes
    assert "answer: |" in text  # multi-line answers as blocks
    assert yaml.safe_load(text) == RECORDS


def test_csv_export_opens_in_excel(empty_db: Database, tmp_path: Path) -> None:
    import_records(empty_db, RECORDS, by="导入")
    path = tmp_path / "out.csv"
    export_file(empty_db, path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(FIELDS)
    assert rows[1][FIELDS.index("alternates")] == "\n".join(RECORDS[0]["alternates"])
    assert len(rows) == 1 + len(RECORDS)


def test_csv_without_bom_and_gbk_csv_are_read(empty_db: Database, tmp_path: Path) -> None:
    header = "question,alternates,answer,topic,law_refs,status\n"
    row = '彩礼能要回来吗,"彩礼退不退\n分手了彩礼咋办\n没领证彩礼",没有办理结婚登记的，可以请求返还彩礼。,marriage,,draft\n'
    plain = tmp_path / "plain.csv"
    plain.write_text(header + row, encoding="utf-8")
    gbk = tmp_path / "excel.csv"
    gbk.write_bytes((header + row.replace("彩礼能要回来吗", "彩礼还能要回来吗")).encode("gbk"))
    import_file(empty_db, plain, by="导入")
    import_file(empty_db, gbk, by="导入")
    entries = list_entries(empty_db)
    assert [e.question for e in entries] == ["彩礼能要回来吗", "彩礼还能要回来吗"]
    assert entries[0].alternates == ["彩礼退不退", "分手了彩礼咋办", "没领证彩礼"]
    assert entries[1].alternates == entries[0].alternates


def test_status_defaults_to_draft_on_import(empty_db: Database) -> None:
    record = {key: value for key, value in RECORDS[0].items() if key != "status"}
    import_records(empty_db, [record], by="导入")
    assert list_entries(empty_db)[0].status == "draft"


def test_matching_question_updates_the_entry_as_a_new_version(db: Database) -> None:
    import_records(db, RECORDS, by="张编辑")
    entry = next(e for e in list_entries(db) if e.question == "离婚冷静期多久")
    generation = content_generation(db)
    changed = {
        "question": "离婚冷静期多久？",  # same question once punctuation is ignored
        "answer": "新的答案（民法典第1077条）。",
        "topic": "marriage",
    }
    result = import_records(db, [changed, RECORDS[1]], by="李编辑")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    updated = get_entry(db, entry.id or 0)
    assert updated is not None
    assert (updated.version, updated.question, updated.answer) == (
        2,
        "离婚冷静期多久？",
        changed["answer"],
    )
    # Fields the record leaves out keep their values; the status stays published.
    assert updated.alternates == RECORDS[0]["alternates"]
    assert updated.status == "published"
    assert updated.updated_by == "李编辑"
    assert [v["answer"] for v in entry_versions(db, entry.id or 0)] == [
        RECORDS[0]["answer"],
        changed["answer"],
    ]
    assert content_generation(db) == generation + 1


def test_blank_status_cell_keeps_an_entry_published(empty_db: Database, tmp_path: Path) -> None:
    import_records(empty_db, RECORDS[:1], by="导入")
    path = tmp_path / "edit.csv"
    export_file(empty_db, path)
    text = path.read_text(encoding="utf-8-sig").replace(",published", ",")
    path.write_text(text, encoding="utf-8-sig")
    assert import_file(empty_db, path, by="导入").unchanged == 1
    assert list_entries(empty_db)[0].status == "published"


def bad(record_changes: dict[str, Any], position: int = 2) -> list[dict[str, Any]]:
    """RECORDS with one record changed (None removes a field)."""
    records = [dict(record) for record in RECORDS]
    for key, value in record_changes.items():
        if value is None:
            records[position - 1].pop(key)
        else:
            records[position - 1][key] = value
    return records


@pytest.mark.parametrize(
    ("records", "message"),
    [
        (
            bad({"law_refs": ["民法典1079"]}, position=1),
            "第1条记录（“离婚冷静期多久”）字段 law_refs：格式应如“民法典第1079条”",
        ),
        (bad({"law_refs": ["民法典第1300条"]}, position=3), "第3条记录（“邻居的狗咬了我, 谁赔？ "),
        (bad({"law_refs": ["民法典第1300条"]}, position=3), "字段 law_refs：民法典第1300条 不存在"),
        (
            bad({"topic": "weather"}),
            "第2条记录（“冒充公检法说我涉嫌洗钱，让转到“安全账户…”）字段 topic",
        ),
        (bad({"status": "deleted"}), "字段 status"),
        (bad({"question": None}), "第2条记录字段 question：不能为空"),
        (bad({"answer": "  "}), "字段 answer：不能为空"),
        (bad({"alternates": "一行\n两行", "keywords": {"a": 1}}), "字段 keywords：应为文字列表"),
        (bad({"alternate": ["拼错的字段名"]}), "字段 alternate：未知字段"),
        (
            bad({"question": "离婚冷静期多久！"}),
            "第2条记录（“离婚冷静期多久！”）字段 question：与第1条记录的问题重复",
        ),
        ([*RECORDS, "不是对象"], "第4条记录字段 record"),
    ],
)
def test_bad_records_are_named_and_nothing_is_written(
    db: Database, records: list[Any], message: str
) -> None:
    before = records_of(db)
    generation = content_generation(db)
    with pytest.raises(InvalidRecordsError) as raised:
        import_records(db, records, by="导入")
    assert message in str(raised.value)
    assert records_of(db) == before
    assert content_generation(db) == generation


def test_every_bad_record_is_reported_at_once(empty_db: Database) -> None:
    records = bad({"topic": "weather"})
    records[2]["law_refs"] = ["治安管理处罚法第42条"]
    with pytest.raises(InvalidRecordsError) as raised:
        import_records(empty_db, records, by="导入")
    assert [(p.position, p.field) for p in raised.value.problems] == [
        (2, "topic"),
        (3, "law_refs"),
    ]
    assert list_entries(empty_db) == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.json", None, "找不到文件"),
        ("entries.txt", "[]", "不支持的文件类型"),
        ("broken.json", '[{"question": "缺了括号"', "JSON 格式错误（第1行"),
        ("object.json", '{"question": "单个对象"}', "文件内容应为条目的列表"),
        ("number.yaml", "42", "文件内容应为条目的列表"),
        ("broken.yaml", "- question: [未闭合\n", "YAML 格式错误"),
        ("header.csv", "问题,答案\n离婚冷静期多久,30天\n", "CSV 表头有未知的列：问题、答案"),
        (
            "wide.csv",
            "question,answer,topic\n问,答,marriage,多出来的\n",
            "CSV 第2行的单元格比表头多",
        ),
        ("binary.json", b"\xff\xfe\x00\x01", "不是 UTF-8 编码"),
        ("empty.csv", "", "CSV 文件是空的"),
    ],
)
def test_bad_files_get_a_clear_error(
    empty_db: Database, tmp_path: Path, name: str, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ExchangeError) as raised:
        import_file(empty_db, path, by="导入")
    assert message in str(raised.value)
    assert list_entries(empty_db) == []


def test_empty_list_imports_nothing(empty_db: Database, tmp_path: Path) -> None:
    result = import_file(empty_db, write_json(tmp_path / "none.json", []), by="导入")
    assert (result.created, result.updated, result.unchanged) == (0, 0, 0)


def test_export_to_an_unknown_type_or_missing_folder_fails_cleanly(
    db: Database, tmp_path: Path
) -> None:
    with pytest.raises(ExchangeError, match="不支持的文件类型"):
        export_file(db, tmp_path / "out.xlsx")
    with pytest.raises(ExchangeError, match="无法写入文件"):
        export_file(db, tmp_path / "no" / "such" / "folder" / "out.json")


def test_cli_import_and_export(runner: FlaskCliRunner, db: Database, tmp_path: Path) -> None:
    source = write_json(tmp_path / "in.json", RECORDS)
    result = runner.invoke(args=["kb", "import", str(source), "--by", "张编辑"])
    assert result.exit_code == 0, result.output
    assert "新增3条" in result.output
    imported = [e for e in list_entries(db) if e.question in {r["question"] for r in RECORDS}]
    assert len(imported) == 3 and {e.updated_by for e in imported} == {"张编辑"}

    out = tmp_path / "published.csv"
    result = runner.invoke(args=["kb", "export", str(out), "--status", "published"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
    assert {row["status"] for row in rows} == {"published"}
    assert "离婚冷静期多久" in {row["question"] for row in rows}
    assert RECORDS[1]["question"] not in {row["question"] for row in rows}
    assert f"已导出{len(rows)}条" in result.output


def test_cli_import_default_author(runner: FlaskCliRunner, db: Database, tmp_path: Path) -> None:
    result = runner.invoke(args=["kb", "import", str(write_json(tmp_path / "a.json", RECORDS))])
    assert result.exit_code == 0, result.output
    entry = next(e for e in list_entries(db) if e.question == "离婚冷静期多久")
    assert entry.updated_by == "导入"


def test_cli_import_refuses_a_bad_file(
    runner: FlaskCliRunner, db: Database, tmp_path: Path
) -> None:
    before = records_of(db)
    source = write_json(tmp_path / "in.json", bad({"law_refs": ["民法典1079"]}, position=3))
    result = runner.invoke(args=["kb", "import", str(source)])
    assert result.exit_code != 0
    assert "第3条记录" in result.output and "law_refs" in result.output
    assert "Traceback" not in result.output
    assert records_of(db) == before

    result = runner.invoke(args=["kb", "import", str(tmp_path / "nowhere.yaml")])
    assert result.exit_code != 0 and "找不到文件" in result.output
    result = runner.invoke(args=["kb", "export", str(tmp_path / "out.doc")])
    assert result.exit_code != 0 and "不支持的文件类型" in result.output
    assert not (tmp_path / "out.doc").exists()
