"""The console's publicity calendar and campaign pages, signed in as editor and reviewer."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlite_utils import Database

from console.calendar import month_links
from knowledge.store import SHANGHAI, get_entry
from scheduler.campaigns import get_campaign, list_campaigns
from scheduler.sender import record_job_finish
from tests.console_support import ACCOUNT_OF_ROLE, post_form, text_of

EDITOR, REVIEWER = ACCOUNT_OF_ROLE["editor"], ACCOUNT_OF_ROLE["reviewer"]


def tomorrow() -> str:
    return (datetime.now(SHANGHAI) + timedelta(days=1)).date().isoformat()


def plan(editor: FlaskClient, **form: str):
    data = {
        "title": "宪法日",
        "text": "12月4日是国家宪法日。",
        "date": tomorrow(),
        "time": "09:00",
        "tag": "",
        "day": "",
    }
    return post_form(editor, "/admin/campaigns/new", {**data, **form})


def test_the_calendar_lists_the_next_12_months_with_plan_links(editor: FlaskClient) -> None:
    response = editor.get("/admin/calendar")
    assert response.status_code == 200
    page = text_of(response)
    assert "老年节（重阳节）" in page and "宣传：《老年人权益保障法》" in page
    assert 'href="/admin/campaigns/new?day=elders_day&date=' in page
    months = re.findall(r"<h2 id=\"m\d+\">(\d{4}年\d{1,2}月)</h2>", page)
    assert 12 <= len(months) == len(set(months)) <= 13
    # Every month the list shows has its link to the month's grid, the 13th one included.
    linked = re.findall(r'href="/admin/calendar\?month=\d{4}-\d\d">(\d{4}年\d{1,2}月)</a>', page)
    assert linked == months


def testmonth_links_cover_the_thirteenth_month_unless_today_is_the_first() -> None:
    links = month_links(date(2026, 12, 8))
    assert len(links) == 13 and links[0] == ("2026-12", "2026年12月")
    assert links[-1] == ("2027-12", "2027年12月")
    assert [value for value, _ in month_links(date(2027, 1, 1))][-1] == "2027-12"
    assert len(month_links(date(2027, 1, 1))) == 12


def test_the_month_view_shows_a_grid_and_bad_months_are_400(editor: FlaskClient) -> None:
    month = (datetime.now(SHANGHAI) + timedelta(days=40)).strftime("%Y-%m")
    response = editor.get(f"/admin/calendar?month={month}")
    assert response.status_code == 200 and "星期日" in text_of(response)
    for bad in ("2027-13", "april", "2027-4"):
        refused = editor.get(f"/admin/calendar?month={bad}")
        assert refused.status_code == 400 and "2027-04" in text_of(refused)


def test_planning_a_day_already_under_way_suggests_a_time_still_ahead(
    editor: FlaskClient,
) -> None:
    started = (datetime.now(SHANGHAI) - timedelta(days=3)).date()
    page = editor.get(f"/admin/campaigns/new?day=elders_day&date={started}").get_data(True)
    on = re.search(r'name="date" required value="([\d-]+)"', page)
    at = re.search(r'name="time" required value="([\d:]+)"', page)
    assert on and at
    suggested = datetime.fromisoformat(f"{on[1]}T{at[1]}").replace(tzinfo=SHANGHAI)
    assert suggested > datetime.now(SHANGHAI)


def test_plan_one_fills_in_a_suggested_text_from_published_entries(editor: FlaskClient) -> None:
    year = datetime.now(SHANGHAI).year + 1
    page = text_of(editor.get(f"/admin/campaigns/new?day=elders_day&date={year}-10-08"))
    text = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert text and text[1].startswith("【老年节（重阳节）】") and "养老" in text[1]
    assert len(text[1]) <= 300
    assert editor.get("/admin/campaigns/new?day=no_such_day").status_code == 404


def test_editor_plans_reviewer_approves_and_the_result_shows(
    signed_in: Callable[[str], FlaskClient], db: Database
) -> None:
    editor, reviewer = signed_in("editor"), signed_in("reviewer")
    response = plan(editor)
    assert response.status_code == 302
    (campaign,) = list_campaigns(db)
    assert campaign.author == EDITOR and campaign.status == "draft"
    detail = f"/admin/campaigns/{campaign.id}"
    assert post_form(editor, f"{detail}/submit", {}, detail).status_code == 302
    own = post_form(editor, f"{detail}/approve", {}, detail)
    assert own.status_code == 403  # an editor may not review at all
    assert post_form(reviewer, f"{detail}/approve", {}, detail).status_code == 302
    approved = get_campaign(db, campaign.id)
    assert approved is not None and approved.status == "approved" and approved.reviewer == REVIEWER
    db["campaigns"].update(campaign.id, {"status": "sent", "msg_id": "42"})
    record_job_finish(
        db,
        {
            "MsgID": "42",
            "Status": "send success",
            "TotalCount": "10",
            "FilterCount": "9",
            "SentCount": "9",
            "ErrorCount": "0",
        },
    )
    page = text_of(editor.get(detail))
    assert "送达 9 人" in page
    assert "送达 9 / 10" in text_of(editor.get("/admin/campaigns"))


def test_a_reviewer_cannot_approve_their_own_campaign(reviewer: FlaskClient, db: Database) -> None:
    plan(reviewer)
    (campaign,) = list_campaigns(db)
    detail = f"/admin/campaigns/{campaign.id}"
    post_form(reviewer, f"{detail}/submit", {}, detail)
    refused = post_form(reviewer, f"{detail}/approve", {}, detail)
    assert refused.status_code == 409 and "不能审核自己编写、修改或提交过的群发" in text_of(refused)
    assert get_campaign(db, campaign.id).status == "in_review"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"text": "法" * 301}, "超过微信的300字上限"),
        ({"date": "2000-01-01"}, "已经过去"),
        ({"time": "25:00"}, "无效"),
        ({"tag": "abc"}, "标签编号须为数字"),
        ({"title": ""}, "标题不能为空"),
    ],
)
def test_bad_campaign_forms_explain_and_save_nothing(
    editor: FlaskClient, db: Database, form: dict[str, str], message: str
) -> None:
    response = plan(editor, **form)
    assert response.status_code == 400 and message in text_of(response)
    assert list_campaigns(db) == []


def test_a_quota_conflict_names_the_campaign_in_the_way(
    signed_in: Callable[[str], FlaskClient], db: Database
) -> None:
    editor = signed_in("editor")
    plan(editor, title="上午")
    plan(editor, title="下午", time="15:00")
    first, second = list_campaigns(db)
    post_form(editor, f"/admin/campaigns/{first.id}/submit", {}, f"/admin/campaigns/{first.id}")
    refused = post_form(
        editor, f"/admin/campaigns/{second.id}/submit", {}, f"/admin/campaigns/{second.id}"
    )
    assert refused.status_code == 409
    assert f"#{first.id}「上午」" in text_of(refused)


def test_a_draft_is_edited_and_cancelled(editor: FlaskClient, db: Database) -> None:
    plan(editor)
    (campaign,) = list_campaigns(db)
    path = f"/admin/campaigns/{campaign.id}"
    saved = post_form(
        editor,
        f"{path}/edit",
        {"title": "改过的", "text": "新的文字", "date": tomorrow(), "time": "10:30", "tag": "100"},
    )
    assert saved.status_code == 302
    changed = get_campaign(db, campaign.id)
    assert changed is not None and (changed.title, changed.text, changed.tag_id) == (
        "改过的",
        "新的文字",
        100,
    )
    assert changed.send_at.strftime("%H:%M") == "10:30"
    assert post_form(editor, f"{path}/cancel", {}, path).status_code == 302
    assert get_campaign(db, campaign.id).status == "cancelled"  # type: ignore[union-attr]
    assert editor.get("/admin/campaigns/999").status_code == 404
    assert editor.get("/admin/campaigns?status=bogus").status_code == 400


def test_campaign_pages_need_a_signed_in_account(client: FlaskClient) -> None:
    for path in ("/admin/calendar", "/admin/campaigns", "/admin/campaigns/new"):
        response = client.get(path)
        assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_the_year_report_counts_sent_campaigns_and_unanswered_by_month(
    editor: FlaskClient, db: Database, runner, tmp_path
) -> None:
    from tests.campaign_support import add_staff, approved_campaign

    add_staff(db)
    year = datetime.now(SHANGHAI).year + 1
    first = approved_campaign(db, datetime(year, 4, 15, 9, tzinfo=SHANGHAI), title="国安日")
    second = approved_campaign(db, datetime(year, 12, 4, 9, tzinfo=SHANGHAI), title="宪法日")
    db["campaigns"].update(first, {"status": "sent", "msg_id": "1", "day_key": "national_security"})
    record_job_finish(
        db,
        {
            "MsgID": "1",
            "Status": "send success",
            "TotalCount": "120",
            "FilterCount": "118",
            "SentCount": "118",
            "ErrorCount": "0",
        },
    )
    db["campaigns"].update(second, {"status": "missed"})
    db["turns"].insert_all(
        {"at": stamp, "channel": "wx", "kind": "fallback", "resident": "wx:u", "text": None}
        for stamp in (
            f"{year}-03-05T02:00:00+00:00",
            f"{year}-03-31T17:00:00+00:00",
            f"{year - 1}-12-31T17:00:00+00:00",
        )  # the last two: next month in Beijing
    )
    page = text_of(editor.get(f"/admin/report?year={year}"))
    assert "已发送 1 次，送达 118 人次" in page and "已错过 1 次" in page
    assert "全民国家安全教育日" in page
    cells = re.findall(r"<td>(\d+)</td>", page.split("按月")[1])
    assert cells[:4] == ["1", "0", "1", "1"] and cells[12] == "3"
    download = editor.get(f"/admin/report.csv?year={year}")
    assert download.status_code == 200 and download.data.startswith("\ufeff".encode())
    rows = download.data.decode("utf-8-sig").splitlines()
    assert rows[1].startswith(f"{year}-04-15 09:00,国安日,全民国家安全教育日,全部关注者,118")
    assert editor.get("/admin/report?year=abc").status_code == 400
    result = runner.invoke(args=["report", "year", str(year), "--csv", str(tmp_path / "r.csv")])
    assert result.exit_code == 0, result.output
    assert "已发送 1 次，送达 118 人次" in result.output
    assert (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines() == rows


def test_the_year_report_counts_questions_by_month_topic_and_entry(
    editor: FlaskClient, db: Database, runner
) -> None:
    year = datetime.now(SHANGHAI).year + 1
    divorce, fraud = get_entry(db, 93), get_entry(db, 1)
    rows = [
        # Beijing time is UTC+8: 17:00 UTC on 31 January is already February in Beijing.
        (f"{year}-01-31T17:00:00+00:00", "answer", divorce.id),
        (f"{year}-02-10T02:00:00+00:00", "answer", divorce.id),
        (f"{year}-02-11T02:00:00+00:00", "selection", fraud.id),
        (f"{year}-02-12T02:00:00+00:00", "choices", None),
        (f"{year}-05-01T02:00:00+00:00", "fallback", None),
        (f"{year - 1}-12-31T15:00:00+00:00", "answer", fraud.id),  # the year before
    ]
    db["turns"].insert_all(
        {"at": at, "channel": "wx", "kind": kind, "entry_id": entry, "resident": "wx:u"}
        for at, kind, entry in rows
    )
    page = text_of(editor.get(f"/admin/report?year={year}"))
    assert "居民提问（全年 4 条）" in page
    assert "直接回答 50%，给了选项 25%，没答上 25%" in page
    february = re.search(r"<th scope=\"row\">2月</th>((?:<td>\d+</td>)+)", page)
    assert february is not None
    assert re.findall(r"\d+", february.group(1)) == ["3", "2", "1", "0"]
    top = page.split("最常被问的条目")[1]
    assert top.index(divorce.question) < top.index(fraud.question)
    result = runner.invoke(args=["report", "year", str(year)])
    assert result.exit_code == 0, result.output
    assert "居民提问：共 4 条，直接回答 50%" in result.output
    assert f"  2次  {divorce.question}" in result.output


def test_the_campaigns_page_warns_when_no_scheduler_runs(editor: FlaskClient, db: Database) -> None:
    from knowledge.store import now
    from scheduler.housekeeping import write_heartbeat

    assert "定时发送进程没有在运行（从未运行过）" in text_of(editor.get("/admin/campaigns"))
    write_heartbeat(db, "scheduler-a", now())
    assert "定时发送进程运行中" in text_of(editor.get("/admin/campaigns"))
    db["scheduler_heartbeat"].update("scheduler-a", {"beat_at": "2020-01-01T00:00:00+00:00"})
    assert "最近一次心跳在" in text_of(editor.get("/admin/campaigns"))
