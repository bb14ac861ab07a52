"""The admin pages (accounts, settings, synonyms, audit log) and who may use each of them."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask.testing import FlaskClient
from sqlite_utils import Database

from knowledge.audit import count_audit, list_audit
from knowledge.settings import get_settings, set_setting
from knowledge.synonyms import add_synonym_group, synonym_groups_with_ids
from knowledge.users import User, get_user, verify_password
from tests.console_support import ACCOUNT_PASSWORD, post_form, sign_in, text_of
from tests.webhook_support import WeChatSender, event_message

NEW_PASSWORD = "另一个足够长的密码-2026"


@dataclass(frozen=True)
class Action:
    """One thing a console user can ask for; ``changed`` tells whether it took effect."""

    name: str
    method: str
    path: Callable[[dict[str, User], int], str]
    data: dict[str, str]
    changed: Callable[[Database], bool]


def _group_gone(db: Database) -> bool:
    return not any(words == ["鹦鹉", "八哥"] for _id, words in synonym_groups_with_ids(db))


MANAGE_ACTIONS = [
    Action("see accounts", "GET", lambda u, g: "/admin/users", {}, lambda db: True),
    Action(
        "create an account",
        "POST",
        lambda u, g: "/admin/users",
        {"name": "新同事", "role": "editor", "password": NEW_PASSWORD},
        lambda db: get_user(db, "新同事") is not None,
    ),
    Action(
        "change a role",
        "POST",
        lambda u, g: f"/admin/users/{u['editor'].id}/role",
        {"role": "reviewer"},
        lambda db: get_user(db, "编辑小王").role == "reviewer",
    ),
    Action(
        "reset a password",
        "POST",
        lambda u, g: f"/admin/users/{u['editor'].id}/password",
        {"password": NEW_PASSWORD},
        lambda db: verify_password(db, "编辑小王", NEW_PASSWORD) is not None,
    ),
    Action(
        "disable an account",
        "POST",
        lambda u, g: f"/admin/users/{u['editor'].id}/disabled",
        {"disabled": "1"},
        lambda db: get_user(db, "编辑小王").disabled,
    ),
    Action("see settings", "GET", lambda u, g: "/admin/settings", {}, lambda db: True),
    Action(
        "save settings",
        "POST",
        lambda u, g: "/admin/settings",
        {"办公室电话": "0538-6000001"},
        lambda db: get_settings(db).get("办公室电话") == "0538-6000001",
    ),
    Action("see synonyms", "GET", lambda u, g: "/admin/synonyms", {}, lambda db: True),
    Action(
        "add synonyms",
        "POST",
        lambda u, g: "/admin/synonyms",
        {"words": "电瓶车 小电驴"},
        lambda db: any(w == ["电瓶车", "小电驴"] for _i, w in synonym_groups_with_ids(db)),
    ),
    Action(
        "delete synonyms",
        "POST",
        lambda u, g: f"/admin/synonyms/{g}/delete",
        {},
        _group_gone,
    ),
    Action("see the audit log", "GET", lambda u, g: "/admin/audit", {}, lambda db: True),
]
EVERY_ROLE_PAGES = [
    "/admin/",
    "/admin/unanswered",
    "/admin/unanswered.csv",
    "/admin/entries",
    "/admin/entries/1",
]


@pytest.fixture
def group_id(db: Database) -> int:
    """A synonym group for the delete action."""
    return add_synonym_group(db, ["鹦鹉", "八哥"], by="setup")


def run(client: FlaskClient, action: Action, accounts: dict[str, User], group: int):
    """Do ``action`` as ``client`` (POSTs with the session's CSRF token)."""
    path = action.path(accounts, group)
    if action.method == "GET":
        return client.get(path)
    return post_form(client, path, action.data, form_page="/admin/")


@pytest.mark.parametrize("role", ["editor", "reviewer"])
@pytest.mark.parametrize("action", MANAGE_ACTIONS, ids=lambda a: a.name)
def test_editors_and_reviewers_cannot_manage(
    signed_in,
    staff_accounts: dict[str, User],
    group_id: int,
    db: Database,
    role: str,
    action: Action,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = signed_in(role)
    response = run(client, action, staff_accounts, group_id)
    assert response.status_code == 403
    assert "没有“管理账号和设置”的权限" in text_of(response)
    assert "refused" in caplog.text
    if action.method == "POST":
        assert not action.changed(db)


@pytest.mark.parametrize("action", MANAGE_ACTIONS, ids=lambda a: a.name)
def test_admins_can_manage(
    admin: FlaskClient,
    staff_accounts: dict[str, User],
    group_id: int,
    db: Database,
    action: Action,
) -> None:
    before = count_audit(db)
    response = run(admin, action, staff_accounts, group_id)
    assert response.status_code == (200 if action.method == "GET" else 302), text_of(response)
    assert action.changed(db)
    if action.method == "POST":
        (record,) = list_audit(db, limit=1)
        assert record.actor == "管理员老张" and count_audit(db) == before + 1


@pytest.mark.parametrize("action", MANAGE_ACTIONS, ids=lambda a: a.name)
def test_strangers_are_sent_to_sign_in(
    client: FlaskClient, staff_accounts: dict[str, User], group_id: int, action: Action
) -> None:
    path = action.path(staff_accounts, group_id)
    response = client.get(path) if action.method == "GET" else client.post(path, data=action.data)
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "action", [a for a in MANAGE_ACTIONS if a.method == "POST"], ids=lambda a: a.name
)
def test_admin_forms_without_the_csrf_token_are_refused(
    admin: FlaskClient,
    staff_accounts: dict[str, User],
    group_id: int,
    db: Database,
    action: Action,
) -> None:
    path = action.path(staff_accounts, group_id)
    for form in (action.data, {**action.data, "csrf_token": "forged"}):
        response = admin.post(path, data=form)
        assert response.status_code == 400
        assert "表单已过期或来源不明" in text_of(response)
    assert not action.changed(db)


@pytest.mark.parametrize("role", ["editor", "reviewer", "admin"])
@pytest.mark.parametrize("path", EVERY_ROLE_PAGES)
def test_every_role_sees_the_shared_pages(signed_in, role: str, path: str) -> None:
    assert signed_in(role).get(path).status_code == 200


@pytest.mark.parametrize(("role", "sees_admin_links"), [("editor", False), ("admin", True)])
def test_the_top_bar_shows_only_what_the_role_may_open(
    signed_in, role: str, sees_admin_links: bool
) -> None:
    page = signed_in(role).get("/admin/").get_data(as_text=True)
    for link in ("/admin/users", "/admin/settings", "/admin/synonyms", "/admin/audit"):
        assert (f'href="{link}"' in page) is sees_admin_links


def test_a_disabled_account_is_signed_out_at_its_next_request(signed_in, db: Database) -> None:
    editor = signed_in("editor")
    admin = signed_in("admin")
    assert editor.get("/admin/").status_code == 200
    path = f"/admin/users/{get_user(db, '编辑小王').id}/disabled"
    post_form(admin, path, {"disabled": "1"})
    assert editor.get("/admin/").status_code == 302
    assert sign_in(editor.application.test_client(), "编辑小王").status_code == 401
    post_form(admin, path, {"disabled": "0"})
    assert sign_in(editor.application.test_client(), "编辑小王").status_code == 302


# --- accounts ------------------------------------------------------------------------------


def test_the_accounts_page_lists_every_account_with_its_role(admin: FlaskClient) -> None:
    page = admin.get("/admin/users").get_data(as_text=True)
    for name, role in [("编辑小王", "editor"), ("审核老李", "reviewer"), ("管理员老张", "admin")]:
        row = re.search(rf'<tr data-user="{name}">(.*?)</tr>', page, re.S)
        assert row, name
        assert f'<option value="{role}" selected>' in row[1]
        assert "正常" in row[1]
    assert "（我）" in re.search(r'<tr data-user="管理员老张">(.*?)</tr>', page, re.S)[1]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "", "role": "editor", "password": NEW_PASSWORD}, "用户名不能为空"),
        ({"name": "编辑小王", "role": "editor", "password": NEW_PASSWORD}, "已经存在"),
        ({"name": "新人", "role": "boss", "password": NEW_PASSWORD}, "角色只能是"),
        ({"name": "新人", "role": "editor", "password": "short"}, "密码至少需要10个字符"),
        ({"name": "新人", "role": "editor"}, "密码至少需要10个字符"),
    ],
)
def test_a_refused_account_keeps_the_form_and_says_why(
    admin: FlaskClient, db: Database, form: dict, message: str
) -> None:
    before = count_audit(db)
    response = post_form(admin, "/admin/users", form)
    assert response.status_code == 400
    page = text_of(response)
    assert message in page
    if form["name"]:
        assert f'value="{form["name"]}"' in response.get_data(as_text=True)
    assert count_audit(db) == before


def test_the_last_admin_cannot_lock_everyone_out(
    admin: FlaskClient, staff_accounts: dict[str, User], db: Database
) -> None:
    own = staff_accounts["admin"].id
    for path, data in [
        (f"/admin/users/{own}/disabled", {"disabled": "1"}),
        (f"/admin/users/{own}/role", {"role": "editor"}),
    ]:
        response = post_form(admin, path, data, form_page="/admin/users")
        assert response.status_code == 400
        assert "至少要保留一个可用的管理员账号" in text_of(response)
    assert get_user(db, "管理员老张").can("manage")


@pytest.mark.parametrize(
    ("path", "data", "status"),
    [
        ("/admin/users/99999/role", {"role": "editor"}, 404),
        ("/admin/users/99999/password", {"password": NEW_PASSWORD}, 404),
        ("/admin/users/" + "9" * 30 + "/disabled", {"disabled": "1"}, 404),
        ("/admin/users/1/disabled", {"disabled": "maybe"}, 400),
    ],
)
def test_unknown_accounts_and_bad_values_are_clear_errors(
    admin: FlaskClient, staff_accounts: dict, path: str, data: dict, status: int
) -> None:
    response = post_form(admin, path, data, form_page="/admin/users")
    assert response.status_code == status
    assert "返回员工后台" in text_of(response)


def test_a_reset_password_signs_the_account_out_and_the_new_one_works(
    signed_in, staff_accounts: dict[str, User], db: Database
) -> None:
    editor, admin = signed_in("editor"), signed_in("admin")
    target = staff_accounts["editor"].id
    response = post_form(admin, f"/admin/users/{target}/password", {"password": NEW_PASSWORD})
    assert response.status_code == 302
    assert "已为 编辑小王 设置新密码" in text_of(admin.get("/admin/users"))
    assert editor.get("/admin/").status_code == 302
    fresh = editor.application.test_client()
    assert sign_in(fresh, "编辑小王", ACCOUNT_PASSWORD).status_code == 401
    assert sign_in(fresh, "编辑小王", NEW_PASSWORD).status_code == 302
    (record,) = list_audit(db, object_type="user", action="set_password", limit=1)
    assert record.actor == "管理员老张" and record.object_id == "编辑小王"


def test_a_role_change_applies_at_once(signed_in, staff_accounts: dict[str, User]) -> None:
    admin = signed_in("admin")
    promoted = signed_in("editor")
    assert promoted.get("/admin/audit").status_code == 403
    post_form(admin, f"/admin/users/{staff_accounts['editor'].id}/role", {"role": "admin"})
    again = promoted.application.test_client()
    sign_in(again, "编辑小王")
    assert again.get("/admin/audit").status_code == 200


# --- settings ------------------------------------------------------------------------------


def test_settings_take_effect_at_the_next_message(
    admin: FlaskClient, client: FlaskClient, db: Database
) -> None:
    asked = client.post("/api/ask", json={"text": "人工", "user": "s1"}).get_json()
    assert "0538-6000001" not in asked["reply"]
    assert "本公众号" in text_of(client.get("/"))
    form = {"办公室电话": " 0538-6000001 ", "公众号名称": "清河普法", "调解中心电话": ""}
    response = post_form(admin, "/admin/settings", form)
    assert response.status_code == 302
    assert "已保存：公众号名称、办公室电话" in text_of(admin.get("/admin/settings"))
    asked = client.post("/api/ask", json={"text": "人工", "user": "s1"}).get_json()
    assert "联系我们：0538-6000001" in asked["reply"]  # the office's name is still unset
    chat = text_of(client.get("/"))
    assert "<title>清河普法</title>" in chat and "本公众号" not in chat
    records = list_audit(db, object_type="setting", limit=5)
    assert {(r.object_id, r.after["value"]) for r in records} == {
        ("办公室电话", "0538-6000001"),
        ("公众号名称", "清河普法"),
    }
    # Saving the same values again changes nothing and records nothing.
    before = count_audit(db)
    post_form(admin, "/admin/settings", form)
    assert "没有改动" in text_of(admin.get("/admin/settings"))
    assert count_audit(db) == before


def test_the_settings_page_shows_values_and_what_residents_read_unset(
    admin: FlaskClient, db: Database
) -> None:
    set_setting(db, "服务大厅地址", "镇政务服务中心", "setup")
    page = text_of(admin.get("/admin/settings"))
    assert 'value="镇政务服务中心"' in page
    assert "留空时居民看到：12348公共法律服务热线" in page
    assert "关注时的欢迎语" in page


def test_the_welcome_text_setting_greets_new_followers(
    admin: FlaskClient, sender: WeChatSender
) -> None:
    default = sender.exchange("plain", event_message("subscribe"))
    assert default["Content"].startswith("您好，欢迎关注本公众号！")
    form = {"欢迎语": "欢迎关注{公众号名称}！有法律问题尽管问。", "公众号名称": "清河普法"}
    assert post_form(admin, "/admin/settings", form).status_code == 302
    # Another event time: the same one again would be taken for WeChat's retry.
    reply = sender.exchange("plain", event_message("subscribe", create_time=int(time.time()) + 1))
    assert reply["Content"].startswith("欢迎关注清河普法！有法律问题尽管问。\n\n我能解答")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"办公室电话": "1" * 501}, "最多500个字符"),
        ({"办公室电话": "{服务大厅电话}"}, "不能有花括号"),
    ],
)
def test_bad_settings_save_nothing_and_keep_the_form(
    admin: FlaskClient, db: Database, form: dict, message: str
) -> None:
    before = count_audit(db)
    response = post_form(admin, "/admin/settings", {"公众号名称": "清河普法", **form})
    assert response.status_code == 400
    assert message in text_of(response) and "没有保存" in text_of(response)
    assert 'value="清河普法"' in response.get_data(as_text=True)
    assert get_settings(db) == {} and count_audit(db) == before


# --- synonyms ------------------------------------------------------------------------------


def test_synonyms_are_added_from_words_typed_any_way_and_deleted(
    admin: FlaskClient, db: Database
) -> None:
    response = post_form(admin, "/admin/synonyms", {"words": " 电瓶车，电动车、小电驴  电瓶车"})
    assert response.status_code == 302
    assert "已添加同义词组：电瓶车 / 电动车 / 小电驴" in text_of(admin.get("/admin/synonyms"))
    group_id, words = synonym_groups_with_ids(db)[-1]
    assert words == ["电瓶车", "电动车", "小电驴"]
    assert f'data-group="{group_id}"' in admin.get("/admin/synonyms").get_data(as_text=True)
    assert post_form(admin, f"/admin/synonyms/{group_id}/delete", {}).status_code == 302
    assert group_id not in [g for g, _w in synonym_groups_with_ids(db)]
    again = post_form(admin, f"/admin/synonyms/{group_id}/delete", {}, form_page="/admin/")
    assert again.status_code == 404 and "可能已经删除" in text_of(again)
    actions = [(r.action, r.actor) for r in list_audit(db, object_type="synonym_group", limit=2)]
    assert actions == [("delete", "管理员老张"), ("create", "管理员老张")]


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("电瓶车", "至少要有两个不同的词"),
        ("", "至少要有两个不同的词"),
        ("长" * 21 + " 短", "最多20个字"),
    ],
)
def test_a_bad_synonym_group_is_refused_with_the_text_kept(
    admin: FlaskClient, db: Database, words: str, message: str
) -> None:
    before = synonym_groups_with_ids(db)
    response = post_form(admin, "/admin/synonyms", {"words": words})
    assert response.status_code == 400 and message in text_of(response)
    assert synonym_groups_with_ids(db) == before


# --- the audit log -------------------------------------------------------------------------


def record_lines(db: Database, count: int, actor: str, at: str) -> None:
    """Put ``count`` lines by ``actor`` at UTC time ``at`` straight into the log."""
    for n in range(count):
        db["audit_log"].insert(
            {
                "at": at,
                "actor": actor,
                "action": "update",
                "object_type": "setting",
                "object_id": f"k{n}",
                "summary": f"第{n}条",
            }
        )


def test_the_audit_log_is_paged_and_filtered(admin: FlaskClient, db: Database) -> None:
    record_lines(db, 60, "甲", "2026-03-01T17:00:00+00:00")  # 2026-03-02 01:00 in Beijing
    record_lines(db, 3, "乙", "2026-03-01T15:00:00+00:00")  # 2026-03-01 23:00 in Beijing
    first = text_of(admin.get("/admin/audit?actor=甲"))
    assert "共 60 条" in first and "第 1 / 2 页" in first
    assert text_of(admin.get("/admin/audit?actor=甲&page=2")).count("第") >= 10
    assert "共 3 条" in text_of(admin.get("/admin/audit?actor=乙"))
    assert "共 60 条" in text_of(
        admin.get("/admin/audit?object_type=setting&from=2026-03-02&to=2026-03-02")
    )
    assert "共 3 条" in text_of(
        admin.get("/admin/audit?object_type=setting&from=2026-03-01&to=2026-03-01")
    )
    assert "2026-03-02 01:00" in first
    assert "没有符合条件的记录" in text_of(admin.get("/admin/audit?to=2000-01-01"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("actor=nobody", "没有这个操作人：nobody"),
        ("object_type=planet", "没有这个对象：planet"),
        ("from=yesterday", "日期格式应为 年-月-日"),
        ("from=2026-03-05&to=2026-03-01", "开始日期不能晚于结束日期"),
        ("page=0", "页码应为正整数"),
    ],
)
def test_bad_audit_filters_are_400(admin: FlaskClient, query: str, message: str) -> None:
    response = admin.get(f"/admin/audit?{query}")
    assert response.status_code == 400 and message in text_of(response)


def test_audit_text_is_shown_as_text(admin: FlaskClient, db: Database) -> None:
    record_lines(db, 1, "<script>alert(1)</script>", "2026-03-01T00:00:00+00:00")
    raw = admin.get("/admin/audit").get_data(as_text=True)
    assert "<script>alert" not in raw and "&lt;script&gt;" in raw


def test_opening_the_admin_pages_changes_nothing(admin: FlaskClient, db: Database) -> None:
    before = count_audit(db)
    for path in ("/admin/users", "/admin/settings", "/admin/synonyms", "/admin/audit"):
        assert admin.get(path).status_code == 200
    assert count_audit(db) == before
