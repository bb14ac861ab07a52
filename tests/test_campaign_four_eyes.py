"""Four eyes on every mass send, in the console as each role: nobody approves what they wrote,
changed or submitted; a change after review goes back to review, with the diff shown."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlite_utils import Database

from knowledge.audit import list_audit
from knowledge.store import SHANGHAI
from knowledge.users import create_user
from scheduler.campaign_versions import contributors
from scheduler.campaigns import get_campaign
from tests.console_support import ACCOUNT_OF_ROLE, ACCOUNT_PASSWORD, post_form, sign_in, text_of

EDITOR, REVIEWER, ADMIN = (ACCOUNT_OF_ROLE[r] for r in ("editor", "reviewer", "admin"))
REFUSED = "不能审核自己编写、修改或提交过的群发"


def words(client: FlaskClient, path: str) -> str:
    """The page's text without its tags (what a screen reader reads out)."""
    return re.sub(r"<[^>]+>", "", text_of(client.get(path)))


def day(days: int = 1) -> str:
    return (datetime.now(SHANGHAI) + timedelta(days=days)).date().isoformat()


def form(**fields: str) -> dict[str, str]:
    values = {"title": "宪法日", "text": "12月4日是国家宪法日。", "date": day(), "time": "09:00"}
    return {"tag": "", "day": "", **values, **fields}


def plan(client: FlaskClient, **fields: str) -> int:
    response = post_form(client, "/admin/campaigns/new", form(**fields))
    assert response.status_code == 302, text_of(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def act(client: FlaskClient, campaign_id: int, action: str, **data: str):
    path = f"/admin/campaigns/{campaign_id}"
    return post_form(client, f"{path}/{action}", data, path)


def edit(client: FlaskClient, campaign_id: int, **fields: str):
    return post_form(client, f"/admin/campaigns/{campaign_id}/edit", form(**fields))


@pytest.fixture
def second_editor(app: Flask, db: Database, staff_accounts: dict) -> FlaskClient:
    """Another editor, 编辑小赵, signed in."""
    create_user(db, "编辑小赵", "editor", ACCOUNT_PASSWORD, by="setup")
    client = app.test_client()
    assert sign_in(client, "编辑小赵").status_code == 302
    return client


@pytest.mark.parametrize("author_role", ["editor", "admin"])
def test_a_reviewer_cannot_approve_a_campaign_they_rewrote_and_submitted(
    signed_in: Callable[[str], FlaskClient], db: Database, author_role: str
) -> None:
    """The issue's reproduction: ed1 creates; rv1 edits, submits and approves (was 302)."""
    author, reviewer = signed_in(author_role), signed_in("reviewer")
    campaign_id = plan(author)
    assert edit(reviewer, campaign_id, text="审核人改写的文字。").status_code == 302
    assert act(reviewer, campaign_id, "submit").status_code == 302
    refused = act(reviewer, campaign_id, "approve")
    assert refused.status_code == 409
    page = text_of(refused)
    assert REFUSED in page and "修改、提交审核" in page
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and campaign.status == "in_review" and not campaign.reviewer
    assert set(contributors(db, campaign_id)) == {ACCOUNT_OF_ROLE[author_role], REVIEWER}
    # Nor does the page offer the button to someone who took part.
    detail = text_of(reviewer.get(f"/admin/campaigns/{campaign_id}"))
    assert "你参与了这次群发，不能自己审核" in detail and ">批准</button>" not in detail
    if author_role == "editor":
        approved = act(signed_in("admin"), campaign_id, "approve")
        assert approved.status_code == 302
        assert get_campaign(db, campaign_id).status == "approved"  # type: ignore[union-attr]


def test_whoever_only_submitted_a_campaign_cannot_approve_it(
    signed_in: Callable[[str], FlaskClient], db: Database
) -> None:
    campaign_id = plan(signed_in("editor"))
    admin = signed_in("admin")
    assert act(admin, campaign_id, "submit").status_code == 302
    refused = act(admin, campaign_id, "approve")
    assert refused.status_code == 409 and "提交审核过它" in text_of(refused)
    assert act(signed_in("reviewer"), campaign_id, "approve").status_code == 302


@pytest.mark.parametrize("status", ["in_review", "approved"])
def test_a_change_of_content_after_submission_goes_back_to_draft_with_a_diff(
    signed_in: Callable[[str], FlaskClient], db: Database, status: str
) -> None:
    editor, reviewer, admin = signed_in("editor"), signed_in("reviewer"), signed_in("admin")
    campaign_id = plan(editor, text="第一版。宪法是根本法。")
    act(editor, campaign_id, "submit")
    if status == "approved":
        assert act(reviewer, campaign_id, "approve").status_code == 302
    else:
        assert act(reviewer, campaign_id, "return").status_code == 302
        act(editor, campaign_id, "submit")
    assert get_campaign(db, campaign_id).status == status  # type: ignore[union-attr]
    saved = edit(editor, campaign_id, text="第一版。宪法是国家的根本法。", tag="7")
    assert saved.status_code == 302
    flashed = text_of(editor.get(saved.headers["Location"]))
    assert "退回草稿" in flashed and "须重新提交" in flashed
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and (campaign.status, campaign.reviewer) == ("draft", "")
    assert campaign.tag_id == 7
    act(editor, campaign_id, "submit")
    page = words(admin, f"/admin/campaigns/{campaign_id}")
    since = page.split("上次审核后的改动")[1].split("修改记录")[0]
    assert "删去：宪法是根本法。" in since and "新增：宪法是国家的根本法。" in since
    assert "删去：全部关注者" in since and "新增：标签 7" in since
    assert "删去：第一版。" not in since and "第一版。" in since  # unchanged: shown unmarked
    edits = list_audit(db, object_type="campaign", object_id=campaign_id, action="edit")
    assert "须重新提交审核" in edits[0].summary
    assert act(admin, campaign_id, "approve").status_code == 302


def test_a_change_of_send_time_alone_keeps_the_approval_and_is_audited(
    signed_in: Callable[[str], FlaskClient], db: Database
) -> None:
    editor, reviewer = signed_in("editor"), signed_in("reviewer")
    campaign_id = plan(editor)
    act(editor, campaign_id, "submit")
    act(reviewer, campaign_id, "approve")
    saved = edit(editor, campaign_id, date=day(2), time="10:30")
    assert saved.status_code == 302
    assert "审核结果保留" in text_of(editor.get(saved.headers["Location"]))
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and (campaign.status, campaign.reviewer) == ("approved", REVIEWER)
    assert campaign.send_at.strftime("%H:%M") == "10:30"
    (line,) = list_audit(db, object_type="campaign", object_id=campaign_id, action="reschedule")
    assert line.actor == EDITOR and f"发送时间改为 {day(2)} 10:30" in line.summary
    assert EDITOR in contributors(db, campaign_id)  # the author, not a new contribution
    assert "changed" not in str(contributors(db, campaign_id))


def test_a_send_time_that_would_miss_its_slot_is_refused_and_says_why(
    signed_in: Callable[[str], FlaskClient], db: Database
) -> None:
    editor, reviewer = signed_in("editor"), signed_in("reviewer")
    campaign_id = plan(editor)
    other = plan(editor, title="另一次", date=day(3))
    for cid in (campaign_id, other):
        act(editor, cid, "submit")
        act(reviewer, cid, "approve")
    past = edit(editor, campaign_id, date="2020-01-01")
    assert past.status_code == 400 and "发送时间已经过去" in text_of(past)
    taken = edit(editor, campaign_id, date=day(3))
    assert taken.status_code == 400 and f"#{other}「另一次」" in text_of(taken)
    assert "订阅号每天只能群发一次" in text_of(taken)
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and campaign.status == "approved"
    assert campaign.send_at.date().isoformat() == day()


def test_a_content_change_says_by_when_it_must_be_approved_again(
    signed_in: Callable[[str], FlaskClient], db: Database
) -> None:
    editor, reviewer = signed_in("editor"), signed_in("reviewer")
    campaign_id = plan(editor, time="08:15")
    act(editor, campaign_id, "submit")
    act(reviewer, campaign_id, "approve")
    saved = edit(editor, campaign_id, title="宪法日（改）", time="08:15")
    page = text_of(editor.get(saved.headers["Location"]))
    slot = (datetime.now(SHANGHAI) + timedelta(days=1)).strftime("%m月%d日 08:15")
    assert f"{slot}前没有批准就不会发出" in page


def test_a_campaign_being_sent_cannot_be_edited(editor: FlaskClient, db: Database) -> None:
    campaign_id = plan(editor)
    db["campaigns"].update(campaign_id, {"status": "sending"})
    assert editor.get(f"/admin/campaigns/{campaign_id}/edit").status_code == 409
    refused = edit(editor, campaign_id, text="发送中改文字")
    assert refused.status_code == 400 and "已不能修改" in text_of(refused)
    assert get_campaign(db, campaign_id).text == "12月4日是国家宪法日。"  # type: ignore[union-attr]


def test_an_editor_cannot_cancel_someone_elses_approved_campaign(
    signed_in: Callable[[str], FlaskClient], second_editor: FlaskClient, db: Database
) -> None:
    editor, reviewer = signed_in("editor"), signed_in("reviewer")
    ids = []
    for title, days in (("一", 1), ("二", 2), ("三", 3)):
        campaign_id = plan(editor, title=title, date=day(days))
        act(editor, campaign_id, "submit")
        act(reviewer, campaign_id, "approve")
        ids.append(campaign_id)
    refused = act(second_editor, ids[0], "cancel")
    assert refused.status_code == 409 and "只能由审核人、管理员或它的编写人取消" in text_of(refused)
    assert "取消这次群发" not in text_of(second_editor.get(f"/admin/campaigns/{ids[0]}"))
    assert get_campaign(db, ids[0]).status == "approved"  # type: ignore[union-attr]
    assert act(editor, ids[0], "cancel").status_code == 302  # its author
    assert act(reviewer, ids[1], "cancel").status_code == 302
    assert act(signed_in("admin"), ids[2], "cancel").status_code == 302
    assert {get_campaign(db, i).status for i in ids} == {"cancelled"}  # type: ignore[union-attr]
    draft = plan(editor, title="草稿", date=day(4))
    assert act(second_editor, draft, "cancel").status_code == 302  # a draft: any editor


def test_contributors_and_history_show_on_the_page(
    signed_in: Callable[[str], FlaskClient], second_editor: FlaskClient
) -> None:
    editor = signed_in("editor")
    campaign_id = plan(editor, text="原来的文字。")
    edit(second_editor, campaign_id, text="改过的文字。")
    act(second_editor, campaign_id, "submit")
    page = words(editor, f"/admin/campaigns/{campaign_id}")
    assert f"{EDITOR}（编写）；编辑小赵（修改、提交审核）" in page
    history = page.split("修改记录")[1]
    assert "编辑小赵" in history and "删去：原来的文字。" in history
    assert "新增：改过的文字。" in history
