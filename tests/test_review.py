"""The legality review: draft → submit → approve or return, with roles, audit and the CLI twins."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlite_utils import Database

from knowledge.audit import list_audit
from knowledge.matching.live_index import current_index
from knowledge.matching.matcher import MatchIndex
from knowledge.review import (
    ReviewError,
    approve_draft,
    archive_entry,
    drafts_in_review,
    get_draft,
    restore_version,
    return_draft,
    save_draft,
    submit_draft,
)
from knowledge.store import entry_versions, get_entry
from knowledge.users import User, create_user, set_disabled
from tests.api_support import ask

PASSWORD = "correct-horse-battery"
QUESTION = "楼上养的鹦鹉天天半夜学打鸣怎么办"
RECORD = {
    "topic": "property",
    "question": QUESTION,
    "alternates": ["鹦鹉半夜叫吵得睡不着", "邻居家鹦鹉天天叫"],
    "answer": "先和邻居协商；协商不成可以申请人民调解，电话{调解中心电话}。",
    "law_refs": ["民法典第294条"],
}


@pytest.fixture
def staff(db: Database) -> dict[str, User]:
    """One account of each role, plus a second reviewer."""
    return {
        name: create_user(db, name, role, PASSWORD, by="测试")
        for name, role in (
            ("张编辑", "editor"),
            ("王审核", "reviewer"),
            ("李审核", "reviewer"),
            ("赵管理", "admin"),
        )
    }


@pytest.fixture
def live(app: Flask, db: Database) -> MatchIndex:
    return current_index(db, app.config["DATABASE"])


def test_a_new_entry_answers_only_after_another_person_approves_it(
    db: Database, client: FlaskClient, staff: dict[str, User], app: Flask
) -> None:
    draft = save_draft(db, staff["张编辑"], RECORD)
    assert get_entry(db, draft.entry_id).status == "draft"
    assert ask(client, QUESTION)["entry_id"] != draft.entry_id

    submitted = submit_draft(
        db, staff["张编辑"], draft.entry_id, current_index(db, app.config["DATABASE"])
    )
    assert submitted.state == "in_review" and submitted.submitted_by == "张编辑"
    assert [d.entry_id for d in drafts_in_review(db)] == [draft.entry_id]
    assert ask(client, QUESTION)["entry_id"] != draft.entry_id

    with pytest.raises(ReviewError, match="角色是编辑"):
        approve_draft(db, staff["张编辑"], draft.entry_id)
    published = approve_draft(db, staff["王审核"], draft.entry_id)
    assert published.status == "published" and published.updated_by == "王审核"
    assert get_draft(db, draft.entry_id) is None
    reply = ask(client, QUESTION)
    assert reply["entry_id"] == draft.entry_id and "先和邻居协商" in reply["reply"]

    actions = [
        (r.actor, r.action) for r in list_audit(db, object_type="entry", object_id=draft.entry_id)
    ]
    assert actions == [("王审核", "approve"), ("张编辑", "submit"), ("张编辑", "save_draft")]


def test_nobody_approves_their_own_change(
    db: Database, staff: dict[str, User], live: MatchIndex
) -> None:
    draft = save_draft(db, staff["王审核"], RECORD)
    submit_draft(db, staff["王审核"], draft.entry_id, live)
    with pytest.raises(ReviewError, match="不能审核通过自己的修改"):
        approve_draft(db, staff["王审核"], draft.entry_id)
    assert get_draft(db, draft.entry_id).state == "in_review"
    # A co-author is an author too, even when someone else submitted.
    second = save_draft(db, staff["李审核"], {**RECORD, "question": "邻居家狗半夜叫怎么办"})
    save_draft(db, staff["张编辑"], {**second.record, "answer": "先协商。"}, second.entry_id)
    submit_draft(db, staff["张编辑"], second.entry_id, live)
    with pytest.raises(ReviewError, match="自己的修改"):
        approve_draft(db, staff["李审核"], second.entry_id)
    assert approve_draft(db, staff["王审核"], second.entry_id).status == "published"


def test_editing_a_published_entry_keeps_the_published_version_answering(
    db: Database, client: FlaskClient, staff: dict[str, User], live: MatchIndex
) -> None:
    entry = get_entry(db, 1)
    before = ask(client, entry.question)
    assert before["entry_id"] == 1
    changed = {
        **save_draft(db, staff["张编辑"], {**_record(entry), "answer": "新的答案。"}, 1).record
    }
    assert changed["answer"] == "新的答案。"
    assert get_entry(db, 1).answer == entry.answer
    assert ask(client, entry.question)["reply"] == before["reply"]

    submit_draft(db, staff["张编辑"], 1, live)
    returned = return_draft(db, staff["王审核"], 1, "请写明依据。")
    assert returned.state == "draft" and returned.return_comment == "请写明依据。"
    assert ask(client, entry.question)["reply"] == before["reply"]
    with pytest.raises(ReviewError, match="没有等待审核"):
        approve_draft(db, staff["李审核"], 1)

    submit_draft(db, staff["张编辑"], 1, live)
    approve_draft(db, staff["李审核"], 1)
    assert ask(client, entry.question)["reply"].startswith("新的答案。")
    assert [v["version"] for v in entry_versions(db, 1)] == [1, 2]


def test_archive_and_restore_an_old_version_as_a_draft(
    db: Database, client: FlaskClient, staff: dict[str, User], live: MatchIndex
) -> None:
    entry = get_entry(db, 1)
    with pytest.raises(ReviewError, match="不能归档"):
        archive_entry(db, staff["张编辑"], 1)
    archive_entry(db, staff["王审核"], 1)
    assert ask(client, entry.question)["entry_id"] != 1

    draft = restore_version(db, staff["张编辑"], 1, 1)
    assert draft.record["answer"] == entry.answer and draft.state == "draft"
    with pytest.raises(ReviewError, match="已有一份草稿"):
        restore_version(db, staff["张编辑"], 1, 1)
    with pytest.raises(ReviewError, match="没有第9版"):
        restore_version(db, staff["张编辑"], 2, 9)
    submit_draft(db, staff["张编辑"], 1, live)
    approve_draft(db, staff["王审核"], 1)
    assert ask(client, entry.question)["entry_id"] == 1


def test_submit_is_refused_while_the_checks_find_errors(
    db: Database, staff: dict[str, User], live: MatchIndex
) -> None:
    bad = {**RECORD, "answer": "依据民法典第1079条，请拨打0571-88886666咨询。"}
    draft = save_draft(db, staff["张编辑"], bad)
    with pytest.raises(ReviewError) as refused:
        submit_draft(db, staff["张编辑"], draft.entry_id, live)
    kinds = {finding.kind for finding in refused.value.findings}
    assert kinds == {"citation", "phone"}
    assert get_draft(db, draft.entry_id).state == "draft"


def test_lost_edits_and_disabled_accounts_are_refused(db: Database, staff: dict[str, User]) -> None:
    draft = save_draft(db, staff["张编辑"], RECORD)
    save_draft(db, staff["李审核"], {**RECORD, "answer": "改过。"}, draft.entry_id, draft.revision)
    with pytest.raises(ReviewError, match="被“李审核”修改过"):
        save_draft(
            db, staff["张编辑"], {**RECORD, "answer": "我的。"}, draft.entry_id, draft.revision
        )
    assert get_draft(db, draft.entry_id).record["answer"] == "改过。"
    set_disabled(db, "张编辑", True, by="赵管理")
    from knowledge.users import get_user

    with pytest.raises(ReviewError, match="已停用"):
        save_draft(db, get_user(db, "张编辑"), RECORD, draft.entry_id)
    with pytest.raises(ReviewError, match="主题"):
        save_draft(db, staff["李审核"], {**RECORD, "topic": "nosuch"})


def _record(entry) -> dict:
    return {
        "topic": entry.topic,
        "question": entry.question,
        "alternates": entry.alternates,
        "answer": entry.answer,
        "law_refs": entry.law_refs,
        "keywords": entry.keywords,
    }


def test_cli_submit_approve_return(
    runner: FlaskCliRunner, db: Database, client: FlaskClient, staff: dict[str, User]
) -> None:
    draft = save_draft(db, staff["张编辑"], RECORD)
    entry_id = str(draft.entry_id)
    result = runner.invoke(args=["kb", "submit", entry_id, "--by", "张编辑"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["kb", "return", entry_id, "--by", "王审核", "--comment", "请补充"])
    assert result.exit_code == 0 and "已退回" in result.output
    assert runner.invoke(args=["kb", "submit", entry_id, "--by", "张编辑"]).exit_code == 0

    own = runner.invoke(args=["kb", "approve", entry_id, "--by", "张编辑"])
    assert own.exit_code != 0 and "不能审核" in own.output
    nobody = runner.invoke(args=["kb", "approve", entry_id, "--by", "无名氏"])
    assert nobody.exit_code != 0 and "没有名为“无名氏”的账号" in nobody.output
    assert ask(client, QUESTION)["entry_id"] != draft.entry_id

    result = runner.invoke(args=["kb", "approve", entry_id, "--by", "王审核"])
    assert result.exit_code == 0 and "已审核通过并发布" in result.output
    assert ask(client, QUESTION)["entry_id"] == draft.entry_id


def test_cli_self_approval_after_own_submit_is_refused(
    runner: FlaskCliRunner, db: Database, staff: dict[str, User]
) -> None:
    draft = save_draft(db, staff["王审核"], RECORD)
    assert (
        runner.invoke(args=["kb", "submit", str(draft.entry_id), "--by", "王审核"]).exit_code == 0
    )
    result = runner.invoke(args=["kb", "approve", str(draft.entry_id), "--by", "王审核"])
    assert result.exit_code == 1
    assert "不能审核通过自己的修改" in result.output
    assert get_entry(db, draft.entry_id).status == "draft"


def test_cli_check_lists_findings(
    runner: FlaskCliRunner, db: Database, staff: dict[str, User]
) -> None:
    draft = save_draft(db, staff["张编辑"], {**RECORD, "answer": "请拨打13812345678。"})
    result = runner.invoke(args=["kb", "check", str(draft.entry_id)])
    assert result.exit_code == 0
    assert "13812345678" in result.output and "1处错误" in result.output
