"""The sender in one process against the stand-in: retries, failures, 45065, the result event."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlite_utils import Database

from bot import create_app
from bot.wechat.api import WeChatAPI, WeChatAPIError
from bot.wechat.standin import WeChatStandIn
from knowledge.store import SHANGHAI
from scheduler.campaigns import get_campaign
from scheduler.sender import SendSettings, mark_overdue, record_job_finish, send_campaign
from tests.campaign_support import TEXT, add_staff, approved_campaign
from tests.conftest import TEST_CONFIG
from tests.webhook_support import message_xml, sender_for

SETTINGS = SendSettings("subscription", grace=3600, lease=30, retries=3, retry_delay=0.05)
SENDALL = "message/mass/sendall"


@pytest.fixture
def wechat() -> Iterator[WeChatStandIn]:
    with WeChatStandIn(TEST_CONFIG["WECHAT_APP_ID"], TEST_CONFIG["WECHAT_APP_SECRET"]) as server:
        yield server


@pytest.fixture
def api(db: Database, wechat: WeChatStandIn) -> WeChatAPI:
    add_staff(db)
    return WeChatAPI(
        db, wechat.base_url, TEST_CONFIG["WECHAT_APP_ID"], TEST_CONFIG["WECHAT_APP_SECRET"], 2.0
    )


def due_campaign(db: Database, seconds_ago: float = 1.0) -> int:
    """An approved campaign whose time came ``seconds_ago``."""
    campaign_id = approved_campaign(db, datetime.now(SHANGHAI) + timedelta(minutes=1))
    moment = datetime.now(SHANGHAI) - timedelta(seconds=seconds_ago)
    db["campaigns"].update(campaign_id, {"send_at": moment.isoformat(timespec="seconds")})
    return campaign_id


def test_a_due_campaign_is_sent_once_with_its_clientmsgid(
    db: Database, api: WeChatAPI, wechat: WeChatStandIn
) -> None:
    campaign_id = due_campaign(db)
    assert send_campaign(db, api, campaign_id, "one", SETTINGS) == "sent"
    assert send_campaign(db, api, campaign_id, "two", SETTINGS) == "sent"  # nothing more to do
    (send,) = wechat.mass_sends
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and campaign.status == "sent"
    assert send.body["clientmsgid"] == campaign.clientmsgid
    assert send.body["filter"] == {"is_to_all": True}
    assert send.body["text"] == {"content": TEXT}
    assert campaign.msg_id == str(send.msg_id)


def test_a_campaign_not_yet_due_is_not_sent(
    db: Database, api: WeChatAPI, wechat: WeChatStandIn
) -> None:
    campaign_id = approved_campaign(db, datetime.now(SHANGHAI) + timedelta(minutes=5))
    assert send_campaign(db, api, campaign_id, "one", SETTINGS) is None
    assert wechat.calls(SENDALL) == []


def test_transient_errors_are_retried_then_one_send(
    db: Database, api: WeChatAPI, wechat: WeChatStandIn
) -> None:
    wechat.inject(SENDALL, errcode=-1, times=2)
    campaign_id = due_campaign(db)
    assert send_campaign(db, api, campaign_id, "one", SETTINGS) == "sent"
    assert [c.errcode for c in wechat.calls(SENDALL)] == [-1, -1, 0]
    assert len(wechat.mass_sends) == 1
    assert get_campaign(db, campaign_id).attempts == 1  # type: ignore[union-attr]


def test_transient_errors_stop_after_the_bounded_retries(
    db: Database, api: WeChatAPI, wechat: WeChatStandIn
) -> None:
    wechat.inject(SENDALL, errcode=-1)
    campaign_id = due_campaign(db)
    assert send_campaign(db, api, campaign_id, "one", SETTINGS) == "failed"
    assert len(wechat.calls(SENDALL)) == SETTINGS.retries + 1
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and campaign.error_code == -1 and "重试" in campaign.error_message


def test_a_permanent_error_fails_at_once_with_an_explanation(
    db: Database, api: WeChatAPI, wechat: WeChatStandIn
) -> None:
    wechat.inject(SENDALL, errcode=45009, errmsg="reach max api daily quota limit")
    campaign_id = due_campaign(db)
    assert send_campaign(db, api, campaign_id, "one", SETTINGS) == "failed"
    assert len(wechat.calls(SENDALL)) == 1
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and campaign.status == "failed" and campaign.error_code == 45009
    assert "群发次数已用完" in campaign.error_message
    assert send_campaign(db, api, campaign_id, "two", SETTINGS) == "failed"
    assert len(wechat.calls(SENDALL)) == 1


def test_an_unknown_refusal_names_the_code_and_the_send_protection(
    db: Database, api: WeChatAPI, wechat: WeChatStandIn
) -> None:
    wechat.inject(SENDALL, errcode=48099, errmsg="refused")
    campaign_id = due_campaign(db)
    send_campaign(db, api, campaign_id, "one", SETTINGS)
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and "48099" in campaign.error_message
    assert "API群发保护" in campaign.error_message


def test_a_send_wechat_already_has_is_recorded_as_sent_not_repeated(
    db: Database, api: WeChatAPI, wechat: WeChatStandIn
) -> None:
    campaign_id = due_campaign(db)
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None
    api.mass_send({"msgtype": "text", "text": {"content": TEXT}}, None, campaign.clientmsgid)
    # As if the process died before recording: the claim is there, its lease ran out.
    db["campaigns"].update(campaign_id, {"status": "sending", "claim_until": time.time() - 1})
    assert send_campaign(db, api, campaign_id, "restarted", SETTINGS) == "sent"
    assert [c.errcode for c in wechat.calls(SENDALL)] == [0, 45065]
    assert len(wechat.mass_sends) == 1


def test_a_live_claim_is_left_alone(db: Database, api: WeChatAPI, wechat: WeChatStandIn) -> None:
    campaign_id = due_campaign(db)
    db["campaigns"].update(
        campaign_id, {"status": "sending", "claim_owner": "other", "claim_until": time.time() + 60}
    )
    assert send_campaign(db, api, campaign_id, "me", SETTINGS) is None
    assert wechat.calls(SENDALL) == []


def test_overdue_campaigns_are_sent_within_grace_and_missed_after(
    db: Database, api: WeChatAPI, wechat: WeChatStandIn
) -> None:
    late = due_campaign(db, seconds_ago=SETTINGS.grace + 60)
    assert mark_overdue(db, SETTINGS) == [late]
    assert get_campaign(db, late).status == "missed"  # type: ignore[union-attr]
    assert send_campaign(db, api, late, "one", SETTINGS) == "missed"
    db["campaigns"].update(late, {"send_at": "2000-01-01T09:00:00+08:00"})  # free the day
    recent = due_campaign(db, seconds_ago=SETTINGS.grace - 60)
    assert mark_overdue(db, SETTINGS) == []
    assert send_campaign(db, api, recent, "one", SETTINGS) == "sent"
    assert len(wechat.mass_sends) == 1


def job_finish_xml(msg_id: str, sent: int = 95) -> str:
    return message_xml(
        ToUserName="gh_0123456789ab",
        FromUserName="mphelper",
        CreateTime=int(time.time()),
        MsgType="event",
        Event="MASSSENDJOBFINISH",
        MsgID=msg_id,
        Status="send success",
        TotalCount=100,
        FilterCount=97,
        SentCount=sent,
        ErrorCount=2,
    )


def test_the_job_finish_event_fills_in_the_result(
    app: Flask, client: FlaskClient, db: Database, api: WeChatAPI
) -> None:
    campaign_id = due_campaign(db)
    send_campaign(db, api, campaign_id, "one", SETTINGS)
    msg_id = get_campaign(db, campaign_id).msg_id  # type: ignore[union-attr]
    for mode in ("plain", "safe"):
        response = sender_for(app, client).post(mode, job_finish_xml(msg_id, 95))
        assert response.status_code == 200 and response.get_data(as_text=True) == "success"
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None
    assert (campaign.result_status, campaign.result_total, campaign.result_filtered) == (
        "send success",
        100,
        97,
    )
    assert (campaign.result_sent, campaign.result_errors) == (95, 2)
    finishes = db.execute("SELECT count(*) FROM audit_log WHERE action = 'job_finish'").fetchone()
    assert finishes == (1,)  # the same event twice is recorded once


def test_a_job_finish_event_for_an_unknown_send_is_logged_not_an_error(
    app: Flask, client: FlaskClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    response = sender_for(app, client).post("plain", job_finish_xml("123456"))
    assert response.status_code == 200
    assert "MASSSENDJOBFINISH for unknown msg_id '123456' kept" in caplog.text
    assert record_job_finish(db, {"MsgID": ""}) is False


def test_a_job_finish_event_that_outruns_the_sender_is_applied_later(
    db: Database, api: WeChatAPI, wechat: WeChatStandIn
) -> None:
    first_msg_id = "1000000001"  # the stand-in's first msg_id
    assert (
        record_job_finish(db, {"MsgID": first_msg_id, "Status": "send success", "SentCount": "7"})
        is False
    )
    campaign_id = due_campaign(db)
    send_campaign(db, api, campaign_id, "one", SETTINGS)
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and campaign.msg_id == first_msg_id
    assert (campaign.result_status, campaign.result_sent) == ("send success", 7)
    assert db["unmatched_job_results"].count == 0


def test_menu_push_sets_topic_buttons_and_a_human_button(
    database_path: Path, wechat: WeChatStandIn
) -> None:
    app = create_app(
        {**TEST_CONFIG, "DATABASE": str(database_path), "WECHAT_API_BASE": wechat.base_url}
    )
    result = app.test_cli_runner().invoke(args=["wechat", "menu", "push"])
    assert result.exit_code == 0, result.output
    (menu,) = wechat.menus
    keys = [b.get("key") for button in menu for b in [button, *button.get("sub_button", [])]]
    assert "HUMAN" in keys and "TOPIC_MARRIAGE" in keys and "TOPIC_ANTIFRAUD" in keys
    assert menu[-1] == {"type": "click", "name": "人工", "key": "HUMAN"}


def test_menu_clicks_of_the_pushed_menu_are_understood(app: Flask, client: FlaskClient) -> None:
    from bot.wechat.menu import default_menu
    from tests.webhook_support import event_message

    sender = sender_for(app, client)
    for button in default_menu():
        for item in [button, *button.get("sub_button", [])]:
            if item.get("type") != "click":
                continue
            reply = sender.exchange("safe", event_message("CLICK", item["key"]))
            assert isinstance(reply, dict) and reply["MsgType"] == "text" and reply["Content"]


def test_a_bad_configured_menu_is_refused_before_any_call(
    database_path: Path, wechat: WeChatStandIn
) -> None:
    app = create_app(
        {
            **TEST_CONFIG,
            "DATABASE": str(database_path),
            "WECHAT_API_BASE": wechat.base_url,
            "WECHAT_MENU": '[{"name": "这个按钮的名字实在太长了", "type": "click", "key": "HELP"}]',
        }
    )
    result = app.test_cli_runner().invoke(args=["wechat", "menu", "push"])
    assert result.exit_code == 1 and "太长" in result.output
    assert wechat.calls("menu/create") == []


def test_housekeeping_purges_old_records_and_keeps_fresh_ones(db: Database) -> None:
    from knowledge.store import now
    from knowledge.turns import record_turn, retention_cutoff
    from scheduler.housekeeping import last_heartbeat, run_housekeeping, write_heartbeat

    db["processed_messages"].insert_all(
        [
            {"key": "old", "reply": "", "created_at": time.time() - 2 * 86400},
            {"key": "new", "reply": "", "created_at": time.time()},
        ],
        alter=True,
    )
    db["campaign_previews"].insert_all(
        [
            {"campaign_id": 1, "target": "o1", "by_wxname": 0, "at": "2020-01-01T00:00:00+00:00"},
            {"campaign_id": 1, "target": "o2", "by_wxname": 0, "at": now()},
        ]
    )
    write_heartbeat(db, "scheduler-a", now())
    old_text = record_turn(db, channel="wx", kind="fallback", resident="wx:a", text="半年前的")
    db.execute("UPDATE turns SET at = ? WHERE id = ?", [retention_cutoff(181), old_text])
    done = run_housekeeping(db, 180)
    assert done["wechat_records"] >= 1 and done["campaign_previews"] == 1
    assert done["resident_texts"] == 1 and db["turns"].get(old_text)["text"] is None
    assert [row["key"] for row in db["processed_messages"].rows] == ["new"]
    assert [row["target"] for row in db["campaign_previews"].rows] == ["o2"]
    beat = last_heartbeat(db)
    assert beat is not None and beat[0] == "scheduler-a" and beat[1] < 60


def test_a_send_that_times_out_after_wechat_took_it_is_not_repeated(
    db: Database, api: WeChatAPI, wechat: WeChatStandIn
) -> None:
    # WeChat accepts the send but answers after the client's 2-second timeout.
    wechat.inject(SENDALL, errcode=0, times=1, delay=3.0)
    campaign_id = due_campaign(db)
    assert send_campaign(db, api, campaign_id, "one", SETTINGS) == "sent"
    wait_until = time.monotonic() + 10
    while len(wechat.calls(SENDALL)) < 2 and time.monotonic() < wait_until:
        time.sleep(0.1)
    assert sorted(c.errcode for c in wechat.calls(SENDALL)) == [0, 45065]
    assert len(wechat.mass_sends) == 1


def test_the_stand_in_takes_sends_to_openids_once_per_clientmsgid(
    api: WeChatAPI, wechat: WeChatStandIn
) -> None:
    body = {
        "touser": ["o1", "o2"],
        "msgtype": "text",
        "text": {"content": "你好"},
        "clientmsgid": "pufa-test-1",
    }
    assert api.call("/cgi-bin/message/mass/send", body)["msg_id"]
    with pytest.raises(WeChatAPIError) as repeated:
        api.call("/cgi-bin/message/mass/send", body)
    assert repeated.value.errcode == 45065
    assert api.mass_status(str(wechat.mass_sends[0].msg_id))["msg_status"] == "SEND_SUCCESS"
    assert [t["id"] for t in api.tags()] == [2, 100]


def test_tags_and_status_commands(database_path: Path, wechat: WeChatStandIn, db: Database) -> None:
    app = create_app(
        {**TEST_CONFIG, "DATABASE": str(database_path), "WECHAT_API_BASE": wechat.base_url}
    )
    add_staff(db)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["campaigns", "tags"])
    assert result.exit_code == 0 and "100\t景区居民\t3人" in result.output
    campaign_id = due_campaign(db)
    result = runner.invoke(args=["campaigns", "status", str(campaign_id)])
    assert result.exit_code == 1 and "没有微信的 msg_id" in result.output
    api = WeChatAPI(
        db, wechat.base_url, TEST_CONFIG["WECHAT_APP_ID"], TEST_CONFIG["WECHAT_APP_SECRET"]
    )
    send_campaign(db, api, campaign_id, "one", SETTINGS)
    result = runner.invoke(args=["campaigns", "status", str(campaign_id)])
    assert result.exit_code == 0 and "微信：SEND_SUCCESS" in result.output


def test_an_article_is_sent_as_mpnews_through_a_draft(
    db: Database, api: WeChatAPI, wechat: WeChatStandIn, tmp_path: Path
) -> None:
    from scheduler.campaigns import approve_campaign, create_campaign, submit_campaign
    from tests.campaign_support import AUTHOR, REVIEWER

    cover = tmp_path / "cover.png"
    cover.write_bytes(b"\x89PNG cover")
    campaign_id = create_campaign(
        db,
        title="民法典宣传月",
        send_at=datetime.now(SHANGHAI) + timedelta(minutes=1),
        account_type="subscription",
        by=AUTHOR,
        article={
            "body": "民法典是社会生活的百科全书。",
            "digest": "一起学民法典",
            "cover_path": str(cover),
        },
    )
    submit_campaign(db, campaign_id, AUTHOR, "subscription")
    approve_campaign(db, campaign_id, REVIEWER, "subscription")
    db["campaigns"].update(campaign_id, {"send_at": datetime.now(SHANGHAI).isoformat()})
    assert send_campaign(db, api, campaign_id, "one", SETTINGS) == "sent"
    (send,) = wechat.mass_sends
    assert send.body["msgtype"] == "mpnews"
    (draft,) = wechat.calls("draft/add")
    assert draft.body["articles"][0]["digest"] == "一起学民法典"
    assert send.body["mpnews"]["media_id"] in wechat.drafts


def test_a_job_that_wechat_reports_failed_marks_the_campaign_failed(
    db: Database, api: WeChatAPI
) -> None:
    campaign_id = due_campaign(db)
    send_campaign(db, api, campaign_id, "one", SETTINGS)
    msg_id = get_campaign(db, campaign_id).msg_id  # type: ignore[union-attr]
    record_job_finish(
        db,
        {
            "MsgID": msg_id,
            "Status": "send fail",
            "TotalCount": "100",
            "FilterCount": "0",
            "SentCount": "0",
            "ErrorCount": "100",
        },
    )
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and campaign.status == "failed"
    assert "send fail" in campaign.error_message and "API群发保护" in campaign.error_message


def test_the_send_path_checks_the_quota_again(
    db: Database, api: WeChatAPI, wechat: WeChatStandIn
) -> None:
    # Planned as a 服务号 (four a month), then the account is configured as a 订阅号.
    first = approved_campaign(db, datetime.now(SHANGHAI) + timedelta(minutes=1), "service")
    second = approved_campaign(db, datetime.now(SHANGHAI) + timedelta(minutes=2), "service")
    moment = datetime.now(SHANGHAI).isoformat(timespec="seconds")
    db["campaigns"].update(first, {"send_at": moment})
    db["campaigns"].update(second, {"send_at": moment})
    assert send_campaign(db, api, first, "one", SETTINGS) == "sent"
    assert send_campaign(db, api, second, "one", SETTINGS) == "failed"
    refused = get_campaign(db, second)
    assert refused is not None and f"#{first}" in refused.error_message
    assert "订阅号每天只能群发一次" in refused.error_message
    assert len(wechat.mass_sends) == 1


@pytest.mark.parametrize("count", ["²", "٣", "1" * 11, "9" * 5000, "-5", "1e3"])
def test_job_finish_counts_take_only_up_to_10_ascii_digits_and_log_no_resident(
    app: Flask,
    client: FlaskClient,
    db: Database,
    api: WeChatAPI,
    caplog: pytest.LogCaptureFixture,
    count: str,
) -> None:
    campaign_id = due_campaign(db)
    send_campaign(db, api, campaign_id, "one", SETTINGS)
    msg_id = get_campaign(db, campaign_id).msg_id  # type: ignore[union-attr]
    sender_name = "oRESIDENT_who_must_not_be_logged"
    xml = job_finish_xml(msg_id).replace("mphelper", sender_name)
    xml = xml.replace("<TotalCount>100</TotalCount>", f"<TotalCount>{count}</TotalCount>")
    response = sender_for(app, client).post("plain", xml)
    assert response.status_code == 200 and response.get_data(as_text=True) == "success"
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and campaign.result_status == "send success"
    assert (campaign.result_total, campaign.result_sent) == (None, 95)
    assert "Traceback" not in caplog.text and "not recorded" not in caplog.text
    assert sender_name not in caplog.text


def test_a_failing_event_hook_logs_no_fields(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_db: Database, _fields: dict[str, str]) -> None:
        raise RuntimeError("hook failed")

    app.extensions["pufa.wechat_events"]["masssendjobfinish"] = broken
    xml = job_finish_xml("77").replace("mphelper", "oRESIDENT_in_a_failing_event")
    response = sender_for(app, client).post("plain", xml)
    assert response.status_code == 200 and "event not recorded (MsgID '77')" in caplog.text
    assert "oRESIDENT_in_a_failing_event" not in caplog.text


def sent_by_45065(db: Database, api: WeChatAPI) -> int:
    """A campaign WeChat already had (45065): recorded sent, with no msg_id."""
    campaign_id = due_campaign(db)
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None
    api.mass_send({"msgtype": "text", "text": {"content": TEXT}}, None, campaign.clientmsgid)
    db["campaigns"].update(campaign_id, {"status": "sending", "claim_until": time.time() - 1})
    assert send_campaign(db, api, campaign_id, "restarted", SETTINGS) == "sent"
    return campaign_id


def test_a_job_finish_after_a_45065_is_matched_to_the_send_of_the_hour_before(
    app: Flask, client: FlaskClient, db: Database, api: WeChatAPI
) -> None:
    campaign_id = sent_by_45065(db, api)
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and campaign.msg_id == "" and campaign.delivery_unconfirmed
    response = sender_for(app, client).post("plain", job_finish_xml("1000000001", 95))
    assert response.status_code == 200
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and (campaign.msg_id, campaign.result_sent) == ("1000000001", 95)
    assert not campaign.delivery_unconfirmed and db["unmatched_job_results"].count == 0


def test_an_unmatchable_45065_send_shows_delivery_unconfirmed(
    app: Flask, client: FlaskClient, db: Database, api: WeChatAPI
) -> None:
    from knowledge.users import create_user
    from tests.console_support import ACCOUNT_PASSWORD, sign_in, text_of

    first = sent_by_45065(db, api)
    long_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat(timespec="seconds")
    db["campaigns"].update(first, {"sent_at": long_ago})  # outside the hour before the event
    response = sender_for(app, client).post("plain", job_finish_xml("1000000009"))
    assert response.status_code == 200 and db["unmatched_job_results"].count == 1
    campaign = get_campaign(db, first)
    assert campaign is not None and campaign.delivery_unconfirmed and campaign.msg_id == ""
    create_user(db, "看报告的编辑", "editor", ACCOUNT_PASSWORD, by="test")
    staff = app.test_client()
    sign_in(staff, "看报告的编辑")
    assert "已发送，送达数未确认" in text_of(staff.get(f"/admin/campaigns/{first}"))
    assert "已发送，送达数未确认" in text_of(staff.get("/admin/campaigns"))
    year = campaign.send_at.year
    assert "已发送，送达数未确认" in text_of(staff.get(f"/admin/report?year={year}"))
    csv_rows = staff.get(f"/admin/report.csv?year={year}").data.decode("utf-8-sig")
    assert "已发送，送达数未确认" in csv_rows
    listed = app.test_cli_runner().invoke(args=["campaigns", "list"]).output
    assert f"#{first}" in listed and "已发送，送达数未确认" in listed


def test_two_45065_sends_in_the_hour_leave_the_event_unmatched(
    db: Database, api: WeChatAPI
) -> None:
    first = sent_by_45065(db, api)
    db["campaigns"].update(first, {"send_at": "2020-01-01T09:00:00+08:00"})  # free the day
    second = sent_by_45065(db, api)
    assert record_job_finish(db, {"MsgID": "5", "Status": "send success"}) is False
    assert {get_campaign(db, c).delivery_unconfirmed for c in (first, second)} == {True}  # type: ignore[union-attr]


def test_a_job_finish_that_came_before_the_45065_is_taken_by_that_send(
    db: Database, api: WeChatAPI
) -> None:
    old = {"msg_id": "1", "result": "{}", "received_at": "2020-01-01T00:00:00+00:00"}
    db["unmatched_job_results"].insert(old)  # hours before: not this send's
    assert (
        record_job_finish(db, {"MsgID": "1000000001", "SentCount": "7", "Status": "send success"})
        is False
    )
    campaign_id = sent_by_45065(db, api)
    campaign = get_campaign(db, campaign_id)
    assert campaign is not None and (campaign.msg_id, campaign.result_sent) == ("1000000001", 7)
    assert [r["msg_id"] for r in db["unmatched_job_results"].rows] == ["1"]


def test_two_results_waiting_leave_the_45065_send_unconfirmed(db: Database, api: WeChatAPI) -> None:
    for msg_id in ("1000000001", "1000000002"):
        record_job_finish(db, {"MsgID": msg_id, "SentCount": "7", "Status": "send success"})
    campaign = get_campaign(db, sent_by_45065(db, api))
    assert campaign is not None and campaign.delivery_unconfirmed
    assert db["unmatched_job_results"].count == 2
