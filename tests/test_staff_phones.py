"""Previews reach only staff phones bound on purpose: a one-time code from the console, sent
from WeChat to the webhook; the console and CLI name no other recipient."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlite_utils import Database

from bot import create_app
from bot.wechat.standin import WeChatStandIn
from knowledge.audit import list_audit
from knowledge.staff_phones import binding_code, bound_phone, issue_binding_code
from knowledge.store import SHANGHAI
from scheduler.campaigns import create_campaign
from scheduler.schema import preview_audit_lines_without_openids, previews_name_staff_not_openids
from tests.conftest import TEST_CONFIG
from tests.console_support import ACCOUNT_OF_ROLE, post_form, text_of
from tests.webhook_support import (
    RESIDENT,
    WeChatSender,
    hashed_resident,
    sender_for,
    text_message,
    warm_matcher,
)

EDITOR = ACCOUNT_OF_ROLE["editor"]
PHONE = "oStaffPhone_editor_000001"


@pytest.fixture
def wechat() -> Iterator[WeChatStandIn]:
    with WeChatStandIn(TEST_CONFIG["WECHAT_APP_ID"], TEST_CONFIG["WECHAT_APP_SECRET"]) as server:
        yield server


@pytest.fixture
def app(database_path: Path, wechat: WeChatStandIn) -> Flask:
    """The app on this test's database, its WeChat API the stand-in on loopback."""
    return create_app(
        {**TEST_CONFIG, "DATABASE": str(database_path), "WECHAT_API_BASE": wechat.base_url}
    )


@pytest.fixture
def sender(app: Flask) -> WeChatSender:
    warm_matcher(app)
    return sender_for(app, app.test_client())


def campaign(db: Database) -> int:
    return create_campaign(
        db,
        title="宪法日",
        text="12月4日是国家宪法日。",
        send_at=datetime.now(SHANGHAI) + timedelta(days=2),
        account_type="subscription",
        by=EDITOR,
    )


def code_from_console(client: FlaskClient) -> str:
    page = text_of(post_form(client, "/admin/account/phone-code", {}, "/admin/account"))
    match = re.search(r'id="binding-code">(PF-[0-9A-Z]{4}-[0-9A-Z]{4})<', page)
    assert match, page
    return match[1]


def reply_to(sender: WeChatSender, text: str, user: str = PHONE) -> str:
    reply = sender.exchange("plain", text_message(text, user=user))
    assert isinstance(reply, dict), reply
    return reply["Content"]


def test_a_staff_member_binds_their_phone_with_a_code_from_the_console(
    editor: FlaskClient, sender: WeChatSender, db: Database
) -> None:
    assert "还没有绑定手机" in text_of(editor.get("/admin/account"))
    code = code_from_console(editor)
    assert f"“{EDITOR}”" in reply_to(sender, f" {code.lower()} ")  # as typed on a phone
    phone = bound_phone(db, EDITOR)
    assert phone is not None
    assert (phone.openid, phone.resident) == (PHONE, hashed_resident(PHONE))
    assert "已绑定" in text_of(editor.get("/admin/account"))
    # Single use: the same code again (even from the same phone) binds nothing.
    assert "无效或已过期" in reply_to(sender, code, user=RESIDENT)
    assert bound_phone(db, EDITOR).openid == PHONE  # type: ignore[union-attr]
    actions = [line.action for line in list_audit(db, object_type="staff_phone")]
    assert actions == ["phone_bind", "phone_code"]
    assert PHONE not in str(list(db["audit_log"].rows)) + str(list(db["turns"].rows))
    turns = db.execute("SELECT count(*) FROM turns WHERE resident = ?", [phone.resident])
    assert turns.fetchone()[0] == 0  # a binding is no resident's question


def test_an_expired_or_replaced_code_binds_nothing(
    editor: FlaskClient, sender: WeChatSender, db: Database
) -> None:
    expired = issue_binding_code(db, EDITOR, ttl=-1)
    assert "无效或已过期" in reply_to(sender, expired.code)
    first = code_from_console(editor)
    second = code_from_console(editor)
    assert "无效或已过期" in reply_to(sender, first)  # replaced by the second
    assert bound_phone(db, EDITOR) is None
    assert "已绑定" in reply_to(sender, second)


def test_other_messages_are_answered_as_usual(editor: FlaskClient, sender: WeChatSender) -> None:
    code_from_console(editor)
    answer = reply_to(sender, "被网络诈骗了怎么办", user=RESIDENT)
    assert "绑定" not in answer and "发现自己被骗了" in answer
    # Not a code's shape: left to the dialogue.
    for text in ("PF-ABCD-EFG", "PF-ABCD-EFGH 谢谢", "绑定"):
        assert binding_code(text) is None
    assert binding_code(" pf-abcd-efgh ") == "PF-ABCD-EFGH"


def test_a_preview_goes_to_the_bound_phone_and_never_to_a_named_openid(
    editor: FlaskClient, sender: WeChatSender, db: Database, wechat: WeChatStandIn
) -> None:
    campaign_id = campaign(db)
    path = f"/admin/campaigns/{campaign_id}"
    assert "先在我的账号页绑定手机" in re.sub(r"<[^>]+>", "", text_of(editor.get(path)))
    refused = post_form(editor, f"{path}/preview", {"openid": RESIDENT}, path)
    assert refused.status_code == 409 and "还没有绑定接收预览的手机" in text_of(refused)
    assert wechat.previews == []
    reply_to(sender, code_from_console(editor))
    sent = post_form(editor, f"{path}/preview", {"openid": RESIDENT, "wxname": "someone"}, path)
    assert sent.status_code == 302
    assert [p["touser"] for p in wechat.previews] == [PHONE]
    assert "towxname" not in wechat.previews[0]
    (row,) = db["campaign_previews"].rows
    assert (row["target"], row["staff"]) == (hashed_resident(PHONE), EDITOR)
    (line,) = list_audit(db, action="preview")
    assert line.actor == EDITOR and PHONE not in line.summary


def test_the_daily_caps_hold_over_http(
    signed_in: Callable[[str], FlaskClient], sender: WeChatSender, db: Database
) -> None:
    editor = signed_in("editor")
    reply_to(sender, code_from_console(editor))
    campaign_id = campaign(db)
    path = f"/admin/campaigns/{campaign_id}"
    codes = [post_form(editor, f"{path}/preview", {}, path).status_code for _ in range(6)]
    assert codes == [302] * 5 + [409]
    assert "每次群发每天最多预览5次" in text_of(post_form(editor, f"{path}/preview", {}, path))


def test_unbinding_stops_previews(editor: FlaskClient, sender: WeChatSender, db: Database) -> None:
    reply_to(sender, code_from_console(editor))
    response = post_form(editor, "/admin/account/phone/unbind", {}, "/admin/account")
    assert response.status_code == 302 and bound_phone(db, EDITOR) is None
    assert "还没有绑定手机" in text_of(editor.get("/admin/account"))
    assert db["staff_phones"].count == 0


def test_the_account_page_needs_a_signed_in_account(client: FlaskClient, db: Database) -> None:
    for response in (client.get("/admin/account"), client.post("/admin/account/phone-code")):
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert db["staff_phone_codes"].count == 0


def test_the_migration_purges_raw_openids_from_previews(tmp_path: Path) -> None:
    db = Database(tmp_path / "old.sqlite3")
    db["campaign_previews"].insert_all(
        [
            {"id": 1, "campaign_id": 1, "target": RESIDENT, "by_wxname": 0, "at": "2026-01-01"},
            {"id": 2, "campaign_id": 1, "target": "zhang_wx", "by_wxname": 1, "at": "2026-01-01"},
        ],
        pk="id",
    )
    previews_name_staff_not_openids(db)
    rows = list(db["campaign_previews"].rows)
    assert [row["target"] for row in rows] == [None, None] and len(rows) == 2
    assert "staff" in db["campaign_previews"].columns_dict


def test_the_migration_hides_openids_in_earlier_preview_audit_lines(db: Database) -> None:
    db.conn.execute("DROP TRIGGER audit_log_no_update")
    db["audit_log"].insert_all(
        [
            {
                "at": "2026-01-01",
                "actor": "张编辑",
                "action": "preview",
                "object_type": "campaign",
                "object_id": "1",
                "summary": f"宪法日：预览发给 {RESIDENT}",
            },
            {
                "at": "2026-01-01",
                "actor": "张编辑",
                "action": "edit",
                "object_type": "campaign",
                "object_id": "1",
                "summary": "宪法日：修改",
            },
        ]
    )
    preview_audit_lines_without_openids(db)
    summaries = [row[0] for row in db.execute("SELECT summary FROM audit_log ORDER BY id")]
    assert summaries[-2:] == ["宪法日：预览发给一部手机（微信号已隐去）", "宪法日：修改"]
    assert not any(RESIDENT in summary for summary in summaries)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit_log SET summary = 'x'")


def test_a_code_sent_through_the_api_or_web_chat_binds_nothing(
    editor: FlaskClient, client: FlaskClient, db: Database
) -> None:
    code = code_from_console(editor)
    response = client.post("/api/ask", json={"text": code, "user": PHONE})
    assert response.status_code == 200 and "绑定" not in response.get_json()["reply"]
    assert bound_phone(db, EDITOR) is None
    assert db["staff_phone_codes"].count == 1  # still pending for WeChat


def test_a_code_of_a_disabled_account_binds_nothing(
    editor: FlaskClient, sender: WeChatSender, db: Database
) -> None:
    from knowledge.users import set_disabled

    code = code_from_console(editor)
    set_disabled(db, EDITOR, True, by="setup")
    assert "无效或已过期" in reply_to(sender, code)
    assert bound_phone(db, EDITOR) is None
