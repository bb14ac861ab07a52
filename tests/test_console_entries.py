"""Writing and reviewing entries in the console: each role × each action, over the test client."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlite_utils import Database

from knowledge.audit import list_audit
from knowledge.review import get_draft, save_draft, submit_draft
from knowledge.settings import render_placeholders, set_setting
from knowledge.store import get_entry
from knowledge.users import User, set_disabled
from tests.api_support import ask
from tests.console_support import csrf_token, post_form, text_of

QUESTION = "楼上养的鹦鹉天天半夜学打鸣怎么办"
FORM = {
    "question": QUESTION,
    "alternates": "鹦鹉半夜叫吵得睡不着\n邻居家鹦鹉天天叫",
    "answer": "先和邻居协商；协商不成可以申请人民调解，电话{调解中心电话}。",
    "law_refs": "民法典第294条",
    "topic": "property",
    "keywords": "鹦鹉\n噪音",
}
RECORD = {
    "topic": "property",
    "question": QUESTION,
    "alternates": ["鹦鹉半夜叫吵得睡不着"],
    "answer": "先和邻居协商。",
    "law_refs": ["民法典第294条"],
}


def new_entry(client: FlaskClient, action: str, **changes: str):
    return post_form(
        client, "/admin/entries/new", {**FORM, **changes, "action": action, "revision": "0"}
    )


def in_review(db: Database, author: User, live) -> int:
    """An entry written and submitted by ``author``."""
    draft = save_draft(db, author, RECORD)
    submit_draft(db, author, draft.entry_id, live)
    return draft.entry_id


@pytest.fixture
def live(app, db):
    from knowledge.matching.live_index import current_index

    return current_index(db, app.config["DATABASE"])


# --- every role may write; only reviewers and admins review --------------------------------


@pytest.mark.parametrize("role", ["editor", "reviewer", "admin"])
def test_every_role_can_save_a_draft_that_answers_nobody(
    role: str, signed_in: Callable[[str], FlaskClient], client: FlaskClient, db: Database
) -> None:
    staff = signed_in(role)
    response = new_entry(staff, "save")
    assert response.status_code == 302
    entry_id = int(re.search(r"/admin/entries/(\d+)", response.location)[1])
    assert get_draft(db, entry_id).record["alternates"] == [
        "鹦鹉半夜叫吵得睡不着",
        "邻居家鹦鹉天天叫",
    ]
    assert ask(client, QUESTION)["entry_id"] != entry_id


@pytest.mark.parametrize(("role", "status"), [("editor", 403), ("reviewer", 200), ("admin", 200)])
def test_only_reviewers_see_the_review_queue(
    role: str, status: int, signed_in: Callable[[str], FlaskClient]
) -> None:
    assert signed_in(role).get("/admin/review").status_code == status


def test_an_editor_cannot_approve_return_or_archive(
    editor: FlaskClient, staff_accounts: dict[str, User], db: Database, live
) -> None:
    entry_id = in_review(db, staff_accounts["admin"], live)
    form_page = "/admin/entries"
    for path in (f"/admin/review/{entry_id}/approve", f"/admin/review/{entry_id}/return"):
        response = post_form(editor, path, {"comment": "不行", "revision": "1"}, form_page)
        assert response.status_code == 403
        assert "审核条目" in text_of(response)
    assert post_form(editor, "/admin/review/1/archive", {}, form_page).status_code == 403
    assert editor.get(f"/admin/review/{entry_id}").status_code == 403
    assert get_draft(db, entry_id).state == "in_review"
    assert get_entry(db, 1).status == "published"


def test_a_reviewer_cannot_approve_their_own_change_but_another_can(
    reviewer: FlaskClient, admin: FlaskClient, client: FlaskClient, db: Database
) -> None:
    response = new_entry(reviewer, "submit")
    assert response.status_code == 302, text_of(response)
    entry_id = int(re.search(r"/admin/entries/(\d+)", response.location)[1])
    page = text_of(reviewer.get(f"/admin/review/{entry_id}"))
    assert "不能由您审核通过" in page and 'id="approve"' not in page
    refused = post_form(
        reviewer, f"/admin/review/{entry_id}/approve", {"revision": "1"}, "/admin/review"
    )
    assert refused.status_code == 403
    assert "不能审核通过自己的修改" in text_of(refused)
    assert ask(client, QUESTION)["entry_id"] != entry_id

    decided = admin.get(f"/admin/review/{entry_id}")
    assert 'id="approve"' in decided.get_data(as_text=True)
    approved = post_form(
        admin, f"/admin/review/{entry_id}/approve", {"revision": "1"}, f"/admin/review/{entry_id}"
    )
    assert approved.status_code == 302
    assert ask(client, QUESTION)["entry_id"] == entry_id
    assert list_audit(db, object_type="entry", object_id=entry_id)[0].action == "approve"


def test_return_needs_a_comment_and_reaches_the_editor(
    editor: FlaskClient, reviewer: FlaskClient, db: Database
) -> None:
    response = new_entry(editor, "submit")
    entry_id = int(re.search(r"/admin/entries/(\d+)", response.location)[1])
    path = f"/admin/review/{entry_id}/return"
    empty = post_form(reviewer, path, {"comment": "  "}, "/admin/review")
    assert empty.status_code == 400 and "请写明原因" in text_of(empty)
    assert (
        post_form(reviewer, path, {"comment": "请注明调解的费用"}, "/admin/review").status_code
        == 302
    )
    form = text_of(editor.get(f"/admin/entries/{entry_id}/edit"))
    assert "退回：请注明调解的费用" in form


def test_an_approval_of_a_draft_changed_since_it_was_read_is_refused(
    editor: FlaskClient, admin: FlaskClient, reviewer: FlaskClient, db: Database
) -> None:
    response = new_entry(editor, "submit")
    entry_id = int(re.search(r"/admin/entries/(\d+)", response.location)[1])
    token = csrf_token(admin, f"/admin/review/{entry_id}")
    stale = admin.post(
        f"/admin/review/{entry_id}/approve", data={"csrf_token": token, "revision": "7"}
    )
    assert stale.status_code == 409 and "重新审阅" in text_of(stale)
    assert get_entry(db, entry_id).status == "draft"


def test_requests_without_the_csrf_token_are_refused_and_change_nothing(
    editor: FlaskClient, reviewer: FlaskClient, db: Database, staff_accounts, live
) -> None:
    entry_id = in_review(db, staff_accounts["admin"], live)
    for client, path, data in (
        (editor, "/admin/entries/new", {**FORM, "action": "save"}),
        (reviewer, f"/admin/review/{entry_id}/approve", {"revision": "1"}),
        (reviewer, f"/admin/review/{entry_id}/return", {"comment": "x"}),
        (reviewer, "/admin/review/1/archive", {}),
        (editor, "/admin/entries/1/restore", {"version": "1"}),
    ):
        response = client.post(path, data=data)
        assert response.status_code == 400, path
        assert "表单已过期或来源不明" in text_of(response)
    assert get_draft(db, entry_id).state == "in_review"
    assert get_entry(db, 1).status == "published" and get_draft(db, 1) is None


def test_a_disabled_reviewers_session_stops_working(
    reviewer: FlaskClient, db: Database, staff_accounts, live
) -> None:
    entry_id = in_review(db, staff_accounts["admin"], live)
    token = csrf_token(reviewer, "/admin/review")
    set_disabled(db, staff_accounts["reviewer"].name, True, by="测试")
    response = reviewer.post(
        f"/admin/review/{entry_id}/approve", data={"csrf_token": token, "revision": "1"}
    )
    assert response.status_code in (302, 400)
    assert get_draft(db, entry_id).state == "in_review"


# --- the form: preview, checks, submit -----------------------------------------------------


def test_preview_shows_the_reply_as_residents_read_it_and_saves_nothing(
    editor: FlaskClient, db: Database
) -> None:
    before = db.execute("SELECT count(*) FROM entries").fetchone()[0]
    response = new_entry(editor, "preview")
    assert response.status_code == 200
    page = text_of(response)
    preview = re.search(r'<div class="answer" id="preview">(.*?)</div>', page, re.S)[1]
    # Placeholders filled as residents read them while the setting is unset.
    assert preview.startswith(render_placeholders(FORM["answer"], {}))
    assert "{" not in preview
    assert "法律依据：《民法典》第294条" in preview
    size = len(preview.encode("utf-8"))
    assert f"{size} / 2048 字节" in page
    assert "《民法典》第294条" in page and "没有发现问题" in page
    assert db.execute("SELECT count(*) FROM entries").fetchone()[0] == before


def live_preview(client: FlaskClient, payload: object, token: str | None = None):
    token = token if token is not None else csrf_token(client, "/admin/entries/new")
    return client.post("/admin/entries/preview.json", json=payload, headers={"X-CSRFToken": token})


def test_the_live_preview_renders_the_reply_as_typed(editor: FlaskClient, db: Database) -> None:
    set_setting(db, "办公室电话", "0538-0000000", by="测试")
    response = live_preview(
        editor,
        {"answer": "请拨打{办公室电话}咨询。", "law_refs": ["民法典第294条", "不是法条"]},
    )
    assert response.status_code == 200
    data = response.get_json()
    assert data["reply"].startswith("请拨打0538-0000000咨询。")
    assert "法律依据：《民法典》第294条" in data["reply"]
    assert data["bytes"] == len(data["reply"].encode("utf-8")) and data["max"] == 2048
    assert "不是法条" in data["problem"]
    long = live_preview(editor, {"answer": "长" * 1000, "law_refs": []}).get_json()
    assert long["bytes"] == 3000 > long["max"]


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2],
        {"answer": 5},
        {"answer": "x", "law_refs": "民法典第1条"},
        {"answer": "x" * 5001},
        {"answer": "x", "law_refs": [[]] * 1 + ["a"]},
    ],
)
def test_the_live_preview_refuses_malformed_input_with_a_json_error(
    editor: FlaskClient, payload: object
) -> None:
    response = live_preview(editor, payload)
    assert response.status_code == 400
    assert response.get_json()["status"] == 400 and response.get_json()["error"]


def test_the_live_preview_refuses_json_nested_too_deep(editor: FlaskClient) -> None:
    token = csrf_token(editor, "/admin/entries/new")
    response = editor.post(
        "/admin/entries/preview.json",
        data="[" * 2000 + "]" * 2000,
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 400 and "嵌套" in response.get_json()["error"]


def test_the_live_preview_needs_a_signed_in_editor_and_the_csrf_token(
    client: FlaskClient, editor: FlaskClient
) -> None:
    stranger = client.post("/admin/entries/preview.json", json={"answer": "x"})
    assert stranger.status_code == 302 and "/admin/login" in stranger.headers["Location"]
    forged = live_preview(editor, {"answer": "x"}, token="forged")
    assert forged.status_code == 400 and "表单已过期" in forged.get_json()["error"]


def test_a_colliding_alternate_is_warned_about_and_fixing_it_clears_the_warning(
    editor: FlaskClient, db: Database
) -> None:
    taken = get_entry(db, 1).alternates[0]
    page = text_of(new_entry(editor, "preview", alternates=f"鹦鹉半夜叫吵得睡不着\n{taken}"))
    assert f"问法“{taken}”会被条目1" in page
    assert "没有发现问题" in text_of(new_entry(editor, "preview"))


def test_submit_with_check_errors_keeps_the_draft_and_lists_them(
    editor: FlaskClient, db: Database
) -> None:
    response = new_entry(editor, "submit", answer="请拨打0571-88886666咨询，依据民法典第1079条。")
    assert response.status_code == 400
    page = text_of(response)
    assert "草稿已保存，但没有提交" in page and "0571-88886666" in page and "第1079条" in page
    entry_id = int(re.search(r'href="/admin/entries/(\d+)"', response.get_data(as_text=True))[1])
    assert get_draft(db, entry_id).state == "draft"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"question": ""}, "标准问题：不能为空"),
        ({"topic": "weather"}, "未知主题 'weather'"),
        ({"law_refs": "民法典第9999条"}, "民法典第9999条 不存在"),
        ({"action": "publish"}, "请用表单下方的按钮提交"),
    ],
)
def test_bad_form_input_is_400_and_keeps_the_text(
    editor: FlaskClient, changes: dict, message: str
) -> None:
    response = post_form(
        editor, "/admin/entries/new", {**FORM, "action": "save", "revision": "0", **changes}
    )
    assert response.status_code == 400
    page = text_of(response)
    assert message in page and FORM["answer"] in page


def test_editing_a_published_entry_keeps_it_answering_until_approved(
    editor: FlaskClient, admin: FlaskClient, client: FlaskClient, db: Database
) -> None:
    entry = get_entry(db, 1)
    old = ask(client, entry.question)["reply"]
    form = {
        "question": entry.question,
        "alternates": "\n".join(entry.alternates),
        "answer": "新写的答案。",
        "law_refs": "\n".join(entry.law_refs),
        "topic": entry.topic,
        "keywords": "\n".join(entry.keywords),
    }
    response = post_form(
        editor, "/admin/entries/1/edit", {**form, "action": "submit", "revision": "0"}
    )
    assert response.status_code == 302, text_of(response)
    assert ask(client, entry.question)["reply"] == old
    detail = text_of(editor.get("/admin/entries/1"))
    assert "待发布的修改：待审核" in detail
    review = text_of(admin.get("/admin/review/1"))
    assert "与已发布版本相比" in review and "新写的答案。" in review
    post_form(admin, "/admin/review/1/approve", {"revision": "1"}, "/admin/review/1")
    assert ask(client, entry.question)["reply"].startswith("新写的答案。")
    history = editor.get("/admin/entries/1").get_data(as_text=True)
    assert 'class="diff-add"><span class="visually-hidden">新增：</span>新写的答案。' in history


def test_a_second_editor_does_not_overwrite_the_first(
    editor: FlaskClient, signed_in, db: Database
) -> None:
    response = new_entry(editor, "save")
    entry_id = int(re.search(r"/admin/entries/(\d+)", response.location)[1])
    other = signed_in("admin")
    path = f"/admin/entries/{entry_id}/edit"
    saved = post_form(
        other, path, {**FORM, "answer": "管理员的版本。", "action": "save", "revision": "1"}
    )
    assert saved.status_code == 302
    stale = post_form(
        editor, path, {**FORM, "answer": "编辑的版本。", "action": "save", "revision": "1"}
    )
    assert stale.status_code == 409 and "编辑的版本。" in text_of(stale)
    assert get_draft(db, entry_id).record["answer"] == "管理员的版本。"


# --- archive, restore, search, import and export -------------------------------------------


def test_archive_and_restore_through_the_pages(
    reviewer: FlaskClient,
    admin: FlaskClient,
    editor: FlaskClient,
    client: FlaskClient,
    db: Database,
) -> None:
    question = get_entry(db, 1).question
    assert post_form(reviewer, "/admin/review/1/archive", {}, "/admin/entries/1").status_code == 302
    assert ask(client, question)["entry_id"] != 1
    again = post_form(reviewer, "/admin/review/1/archive", {}, "/admin/entries/1")
    assert again.status_code == 409 and "已经归档" in text_of(again)
    restored = post_form(editor, "/admin/entries/1/restore", {"version": "1"}, "/admin/entries/1")
    assert restored.status_code == 302 and restored.location.endswith("/admin/entries/1/edit")
    assert get_draft(db, 1).state == "draft"
    bad = post_form(editor, "/admin/entries/1/restore", {"version": "x"}, "/admin/entries/1")
    assert bad.status_code == 400


def test_search_covers_question_alternates_and_answer(editor: FlaskClient, db: Database) -> None:
    entry = get_entry(db, 1)
    for text in (entry.question[:6], entry.alternates[0][:6], entry.answer[10:18]):
        page = editor.get("/admin/entries", query_string={"q": text}).get_data(as_text=True)
        assert 'href="/admin/entries/1"' in page, text
    nothing = text_of(editor.get("/admin/entries", query_string={"q": "%_不存在的字%"}))
    assert "共 0 条" in nothing


def test_export_csv_and_import_as_drafts(
    editor: FlaskClient, client: FlaskClient, db: Database
) -> None:
    exported = editor.get("/admin/entries/export.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    assert len(rows) == db.execute("SELECT count(*) FROM entries").fetchone()[0]

    body = "question,answer,topic\n" + f"{QUESTION},先协商。,property\n"
    token = csrf_token(editor, "/admin/entries")
    response = editor.post(
        "/admin/entries/import",
        data={"csrf_token": token, "file": (io.BytesIO(body.encode("utf-8-sig")), "new.csv")},
    )
    assert response.status_code == 302
    drafts = [row[0] for row in db.execute("SELECT entry_id FROM entry_drafts")]
    assert len(drafts) == 1 and get_entry(db, drafts[0]).status == "draft"
    assert ask(client, QUESTION)["entry_id"] != drafts[0]

    bad = "question,answer,topic\n问题,答案,weather\n"
    refused = editor.post(
        "/admin/entries/import",
        data={"csrf_token": token, "file": (io.BytesIO(bad.encode()), "bad.csv")},
    )
    assert refused.status_code == 400 and "未知主题 'weather'" in text_of(refused)
    assert db.execute("SELECT count(*) FROM entry_drafts").fetchone()[0] == 1
