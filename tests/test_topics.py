"""Topics are data: the shipped eight stay the menu, staff can add one, import checks it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlite_utils import Database

from bot.texts import topic_menu
from knowledge.audit import list_audit
from knowledge.exchange import InvalidRecordsError, import_file
from knowledge.topic_store import TopicError, add_topic, known_topics
from knowledge.topics import TOPICS
from tests.console_support import post_form, text_of

RECORD = {"question": "加班费怎么算", "answer": "按劳动法规定计算。", "topic": "labor"}


def test_the_shipped_eight_are_the_seeded_topics_and_the_menu(db: Database) -> None:
    assert known_topics(db) == TOPICS
    add_topic(db, "labor", "劳动用工", by="赵管理")
    assert list(known_topics(db)) == [*TOPICS, "labor"]
    assert "劳动用工" not in topic_menu()
    assert list_audit(db, object_type="topic")[0].summary == "新增主题 劳动用工（labor）"


@pytest.mark.parametrize(
    ("key", "name", "message"),
    [
        ("Labor", "劳动", "不合格式"),
        ("marriage", "婚姻", "已经存在"),
        ("labor", "婚姻家庭", "名称“婚姻家庭”已经存在"),
        ("labor", "", "不能为空"),
    ],
)
def test_bad_topics_are_refused(db: Database, key: str, name: str, message: str) -> None:
    with pytest.raises(TopicError, match=message):
        add_topic(db, key, name, by="赵管理")
    assert known_topics(db) == TOPICS


def test_import_accepts_a_new_topic_only_once_it_exists(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "labor.json"
    path.write_text(json.dumps([RECORD], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InvalidRecordsError, match="未知主题 'labor'"):
        import_file(db, path, "测试")
    add_topic(db, "labor", "劳动用工", by="赵管理")
    assert import_file(db, path, "测试").created == 1


def test_cli_topics_add_and_list(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["kb", "topics", "add", "labor", "劳动用工"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["kb", "topics", "list"]).output
    assert "labor\t劳动用工" in listed and "marriage\t婚姻家庭" in listed
    again = runner.invoke(args=["kb", "topics", "add", "labor", "劳动"])
    assert again.exit_code != 0 and "已经存在" in again.output


def test_console_topics_page_lists_them_and_only_admins_add(
    editor: FlaskClient, admin: FlaskClient, db: Database
) -> None:
    page = text_of(editor.get("/admin/topics"))
    assert "婚姻家庭" in page and "新增主题" not in page
    refused = post_form(
        editor, "/admin/topics", {"key": "labor", "name": "劳动用工"}, "/admin/entries"
    )
    assert refused.status_code == 403 and "labor" not in known_topics(db)
    bad = post_form(admin, "/admin/topics", {"key": "Labor!", "name": "劳动用工"})
    assert bad.status_code == 400 and "不合格式" in text_of(bad) and "劳动用工" in text_of(bad)
    added = post_form(admin, "/admin/topics", {"key": "labor", "name": "劳动用工"})
    assert added.status_code == 302 and known_topics(db)["labor"] == "劳动用工"
    form = editor.get("/admin/entries/new").get_data(as_text=True)
    assert '<option value="labor">劳动用工</option>' in form
