"""Staff edit synonym groups with ``flask kb synonyms``; every worker's matcher follows."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlite_utils import Database

from knowledge.audit import list_audit
from knowledge.entries import Entry
from knowledge.matching.live_index import current_index
from knowledge.store import create_entry


def test_add_list_and_delete_a_group(runner: FlaskCliRunner) -> None:
    added = runner.invoke(args=["kb", "synonyms", "add", "电瓶车", "电动车", "小电驴"])
    assert added.exit_code == 0, added.output
    listed = runner.invoke(args=["kb", "synonyms", "list"])
    line = next(row for row in listed.output.splitlines() if "小电驴" in row)
    group_id = line.split("\t")[0]
    assert line.endswith("电瓶车 / 电动车 / 小电驴")
    deleted = runner.invoke(args=["kb", "synonyms", "delete", group_id])
    assert deleted.exit_code == 0 and "已删除" in deleted.output
    assert "小电驴" not in runner.invoke(args=["kb", "synonyms", "list"]).output


def test_changes_from_the_command_line_are_audited(runner: FlaskCliRunner, db: Database) -> None:
    added = runner.invoke(args=["kb", "synonyms", "add", "电瓶车", "小电驴", "--by", "王运维"])
    assert added.exit_code == 0, added.output
    group_id = int(added.output.split("同义词组 ")[1].split("：")[0])
    assert runner.invoke(args=["kb", "synonyms", "delete", str(group_id)]).exit_code == 0
    deleted, created = list_audit(db, object_type="synonym_group", limit=2)
    assert (created.actor, created.action, created.object_id) == ("王运维", "create", str(group_id))
    assert created.after == ["电瓶车", "小电驴"]
    assert (deleted.actor, deleted.action, deleted.before) == (
        "cli",
        "delete",
        ["电瓶车", "小电驴"],
    )


def test_bad_groups_and_unknown_ids_are_refused(runner: FlaskCliRunner) -> None:
    single = runner.invoke(args=["kb", "synonyms", "add", "电瓶车"])
    assert single.exit_code != 0 and "至少要有两个不同的词" in single.output
    missing = runner.invoke(args=["kb", "synonyms", "delete", "99999"])
    assert missing.exit_code != 0 and "没有编号为 99999" in missing.output


def test_a_new_group_reaches_the_running_matcher(
    app: Flask, runner: FlaskCliRunner, db: Database
) -> None:
    key = str(app.config["DATABASE"])
    create_entry(
        db,
        Entry(
            None,
            "tort",
            "电瓶车被偷了找谁",
            "先报警。",
            ["电瓶车丢了怎么办", "小区里电瓶车没了"],
            status="published",
        ),
        "测试",
    )
    before = current_index(db, key)
    assert before.prepare("小电驴") == "小电驴"
    runner.invoke(args=["kb", "synonyms", "add", "电瓶车", "小电驴"])
    after = current_index(db, key)
    assert after is not before and after.prepare("小电驴被偷了") == "电瓶车被偷了"
