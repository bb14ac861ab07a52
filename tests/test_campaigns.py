"""Campaigns: fields and limits, approval by another reviewer, quotas, audit, CLI, preview."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlite_utils import Database

from bot import create_app
from bot.wechat.api import WeChatAPI
from bot.wechat.standin import WeChatStandIn
from knowledge.store import SHANGHAI
from scheduler.campaigns import (
    CampaignError,
    approve_campaign,
    campaign_generation,
    cancel_campaign,
    create_campaign,
    get_campaign,
    submit_campaign,
)
from scheduler.sender import preview_campaign
from tests.campaign_support import (
    AUTHOR,
    AUTHOR_PHONE,
    REVIEWER,
    TEXT,
    add_staff,
    approved_campaign,
    bind_phone,
)
from tests.conftest import TEST_CONFIG

SUB = "subscription"


@pytest.fixture
def staff_db(db: Database) -> Database:
    add_staff(db)
    return db


def at(days: int, hour: int = 9) -> datetime:
    base = datetime.now(SHANGHAI).replace(hour=hour, minute=0, second=0, microsecond=0)
    return base + timedelta(days=days)


def new(db: Database, when: datetime, account_type: str = SUB, **kw: object) -> int:
    return create_campaign(
        db,
        title=str(kw.pop("title", "宣传")),
        text=str(kw.pop("text", TEXT)),
        send_at=when,
        account_type=account_type,
        by=AUTHOR,
        **kw,  # type: ignore[arg-type]
    )


def test_text_is_counted_in_characters_as_wechat_counts(staff_db: Database) -> None:
    new(staff_db, at(10), text="法" * 300)
    with pytest.raises(CampaignError, match="301个字，超过微信的300字上限"):
        new(staff_db, at(11), text="法" * 301)
    with pytest.raises(CampaignError, match="不能为空"):
        new(staff_db, at(12), text="  ")


def test_an_article_title_is_limited_to_64_bytes(staff_db: Database, tmp_path: Path) -> None:
    cover = tmp_path / "cover.png"
    cover.write_bytes(b"\x89PNG fake image bytes")
    article = {"body": "正文", "digest": "摘要", "cover_path": str(cover)}
    new(staff_db, at(10), title="国" * 21, text="", article=article)  # 63 bytes
    with pytest.raises(CampaignError, match="66个字节，超过微信的64字节上限"):
        new(staff_db, at(11), title="国" * 22, text="", article=article)
    with pytest.raises(CampaignError, match="找不到封面"):
        new(staff_db, at(12), text="", article={**article, "cover_path": str(tmp_path / "no.png")})


def test_past_and_naive_times_are_refused(staff_db: Database) -> None:
    with pytest.raises(CampaignError, match="已经过去"):
        new(staff_db, at(-1))
    with pytest.raises(CampaignError, match="时区"):
        new(staff_db, at(3).replace(tzinfo=None))


def test_the_workflow_is_audited_and_bumps_the_generation(staff_db: Database) -> None:
    before = campaign_generation(staff_db)
    campaign_id = new(staff_db, at(5))
    submit_campaign(staff_db, campaign_id, AUTHOR, SUB)
    approved = approve_campaign(staff_db, campaign_id, REVIEWER, SUB)
    assert approved.status == "approved" and approved.reviewer == REVIEWER
    assert campaign_generation(staff_db) == before + 3
    actions = staff_db.execute(
        "SELECT actor, action FROM audit_log WHERE object_type = 'campaign' ORDER BY id"
    ).fetchall()
    assert actions == [(AUTHOR, "create"), (AUTHOR, "submit"), (REVIEWER, "approve")]


def test_only_a_reviewer_who_is_not_the_author_approves(staff_db: Database) -> None:
    from knowledge.users import create_user

    create_user(staff_db, "王审核", "reviewer", "reviewer-password-2", by="test")
    own = create_campaign(
        staff_db, title="自己写的", text=TEXT, send_at=at(5), account_type=SUB, by="王审核"
    )
    submit_campaign(staff_db, own, "王审核", SUB)
    with pytest.raises(CampaignError, match="不能审核自己编写、修改或提交过的群发"):
        approve_campaign(staff_db, own, "王审核", SUB)
    with pytest.raises(CampaignError, match="没有审核群发的权限"):
        approve_campaign(staff_db, own, AUTHOR, SUB)
    with pytest.raises(CampaignError, match="没有名为"):
        approve_campaign(staff_db, own, "路人", SUB)
    assert get_campaign(staff_db, own).status == "in_review"  # type: ignore[union-attr]
    assert approve_campaign(staff_db, own, REVIEWER, SUB).status == "approved"


def test_a_draft_cannot_be_approved_and_a_sent_one_not_cancelled(staff_db: Database) -> None:
    campaign_id = new(staff_db, at(5))
    with pytest.raises(CampaignError, match="现在是“草稿”"):
        approve_campaign(staff_db, campaign_id, REVIEWER, SUB)
    staff_db["campaigns"].update(campaign_id, {"status": "sent"})
    with pytest.raises(CampaignError, match="现在是“已发送”"):
        cancel_campaign(staff_db, campaign_id, AUTHOR)


def test_subscription_quota_refuses_a_second_send_the_same_day(staff_db: Database) -> None:
    second = new(staff_db, at(7, 20))  # a draft does not hold the day's slot …
    first = approved_campaign(staff_db, at(7, 9), title="上午的群发")
    with pytest.raises(CampaignError, match=f"#{first}「上午的群发」"):
        submit_campaign(staff_db, second, AUTHOR, SUB)  # … but cannot be scheduled
    with pytest.raises(CampaignError, match="订阅号每天只能群发一次"):
        new(staff_db, at(7, 21))
    new(staff_db, at(8, 9))  # the next day is free
    cancel_campaign(staff_db, first, AUTHOR)
    submit_campaign(staff_db, second, AUTHOR, SUB)  # a cancelled campaign frees the day


def test_service_quota_is_four_a_calendar_month(staff_db: Database) -> None:
    first_of_month = at(40).replace(day=1)
    for day in range(4):
        approved_campaign(staff_db, first_of_month + timedelta(days=day), "service")
    with pytest.raises(CampaignError, match="服务号每个自然月只能群发4次"):
        new(staff_db, first_of_month + timedelta(days=10), "service")
    next_month = (first_of_month + timedelta(days=32)).replace(day=1)
    new(staff_db, next_month, "service")


def test_a_quota_refusal_suggests_cancelling_only_what_has_not_gone_out(
    staff_db: Database,
) -> None:
    sent = approved_campaign(staff_db, at(9, 9), title="已发的")
    staff_db["campaigns"].update(sent, {"status": "sent"})
    with pytest.raises(CampaignError) as refused:
        new(staff_db, at(9, 20))
    assert "已发出，请换一天" in str(refused.value) and "取消" not in str(refused.value)
    pending = approved_campaign(staff_db, at(10, 9), title="待发的")
    with pytest.raises(CampaignError, match=f"#{pending}「待发的」.*请换一天，或先取消它"):
        new(staff_db, at(10, 20))
    first_of_month = at(70).replace(day=1)
    ids = [
        approved_campaign(staff_db, first_of_month + timedelta(days=day), "service")
        for day in range(4)
    ]
    staff_db["campaigns"].update(ids[0], {"status": "sent"})
    with pytest.raises(CampaignError, match="或先取消其中尚未发出的一个"):
        new(staff_db, first_of_month + timedelta(days=10), "service")


@pytest.fixture
def wechat() -> Iterator[WeChatStandIn]:
    with WeChatStandIn(TEST_CONFIG["WECHAT_APP_ID"], TEST_CONFIG["WECHAT_APP_SECRET"]) as server:
        yield server


def api(db: Database, wechat: WeChatStandIn) -> WeChatAPI:
    return WeChatAPI(
        db, wechat.base_url, TEST_CONFIG["WECHAT_APP_ID"], TEST_CONFIG["WECHAT_APP_SECRET"], 2.0
    )


def test_a_preview_reaches_only_the_bound_staff_phone_without_quota(
    staff_db: Database, wechat: WeChatStandIn
) -> None:
    campaign_id = new(staff_db, at(5))
    with pytest.raises(CampaignError, match="还没有绑定接收预览的手机"):
        preview_campaign(staff_db, api(staff_db, wechat), campaign_id, AUTHOR)
    hashed = bind_phone(staff_db)
    preview_campaign(staff_db, api(staff_db, wechat), campaign_id, AUTHOR)
    assert wechat.previews == [
        {"touser": AUTHOR_PHONE, "msgtype": "text", "text": {"content": TEXT}}
    ]
    assert wechat.mass_sends == []
    (row,) = staff_db["campaign_previews"].rows
    assert (row["target"], row["staff"]) == (hashed, AUTHOR)
    assert AUTHOR_PHONE not in str(list(staff_db["audit_log"].rows))


def test_previews_stop_at_5_a_campaign_and_20_a_staff_member_a_day(
    staff_db: Database, wechat: WeChatStandIn
) -> None:
    from knowledge.store import now

    bind_phone(staff_db)
    first, second = new(staff_db, at(5)), new(staff_db, at(6))
    for _ in range(5):
        preview_campaign(staff_db, api(staff_db, wechat), first, AUTHOR)
    with pytest.raises(CampaignError, match="每次群发每天最多预览5次"):
        preview_campaign(staff_db, api(staff_db, wechat), first, AUTHOR)
    staff_db["campaign_previews"].insert_all(
        {"campaign_id": 99, "target": "wx:x", "staff": AUTHOR, "at": now()} for _ in range(15)
    )
    with pytest.raises(CampaignError, match="每位工作人员每天最多预览20次"):
        preview_campaign(staff_db, api(staff_db, wechat), second, AUTHOR)
    assert len(wechat.previews) == 5
    yesterday = "2000-01-01T00:00:00+00:00"
    staff_db.execute("UPDATE campaign_previews SET at = ?", [yesterday])
    preview_campaign(staff_db, api(staff_db, wechat), second, AUTHOR)
    assert len(wechat.previews) == 6
    previews = staff_db.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'preview' AND actor = ?", [AUTHOR]
    ).fetchone()[0]
    assert previews == 6


def test_a_refused_preview_does_not_use_up_the_cap(
    staff_db: Database, wechat: WeChatStandIn
) -> None:
    bind_phone(staff_db)
    campaign_id = new(staff_db, at(5))
    wechat.inject("message/mass/preview", errcode=40003, times=5, errmsg="invalid openid")
    for _ in range(5):
        with pytest.raises(CampaignError, match="重新绑定手机"):
            preview_campaign(staff_db, api(staff_db, wechat), campaign_id, AUTHOR)
    assert staff_db["campaign_previews"].count == 0
    preview_campaign(staff_db, api(staff_db, wechat), campaign_id, AUTHOR)
    assert len(wechat.previews) == 1


def test_an_article_preview_goes_through_a_draft(
    staff_db: Database, wechat: WeChatStandIn, tmp_path: Path
) -> None:
    cover = tmp_path / "cover.jpg"
    cover.write_bytes(b"\xff\xd8\xff fake jpeg")
    campaign_id = new(
        staff_db,
        at(5),
        title="民法典宣传月",
        text="",
        article={"body": "第一段\n第二段", "digest": "摘要", "cover_path": str(cover)},
    )
    bind_phone(staff_db)
    preview_campaign(staff_db, api(staff_db, wechat), campaign_id, AUTHOR)
    (preview,) = wechat.previews
    assert preview["msgtype"] == "mpnews" and preview["mpnews"]["media_id"].startswith("draft-")
    (draft,) = wechat.calls("draft/add")
    article = draft.body["articles"][0]
    assert article["title"] == "民法典宣传月" and "<p>第二段</p>" in article["content"]
    assert article["thumb_media_id"].startswith("material-")
    assert [c.errcode for c in wechat.calls("media/uploadimg")] == [0]


def _runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def test_the_cli_plans_a_campaign_end_to_end(
    staff_db: Database, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    text = tmp_path / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    when = at(30).strftime("%Y-%m-%d %H:%M")
    result = runner.invoke(
        args=[
            "campaigns",
            "create",
            "--title",
            "国安日",
            "--text-file",
            str(text),
            "--at",
            when,
            "--tag",
            "100",
            "--by",
            AUTHOR,
        ]
    )
    assert result.exit_code == 0, result.output
    assert "已创建群发 #1" in result.output
    for args in (["submit", "1", "--by", AUTHOR], ["approve", "1", "--by", REVIEWER]):
        result = runner.invoke(args=["campaigns", *args])
        assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["campaigns", "list"]).output
    assert f"#1  {when}  已批准  国安日  （标签 100）" in listed
    refused = runner.invoke(
        args=["campaigns", "create", "--title", "再发", "--text-file", str(text), "--at", when]
    )
    assert refused.exit_code == 1 and "订阅号每天只能群发一次" in refused.output
    cancelled = runner.invoke(args=["campaigns", "cancel", "1", "--by", AUTHOR])
    assert cancelled.exit_code == 0 and "已取消" in cancelled.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--title", "T", "--at", "2099-01-01 09:00"], "--text-file"),
        (["create", "--title", "T", "--text-file", "{text}", "--at", "明天"], "发送时间“明天”无效"),
        (["approve", "99", "--by", REVIEWER], "没有编号为 99 的群发"),
        (["submit", "1"], "Missing option '--by'"),
        (["preview", "1"], "Missing option '--by'"),
        (["preview", "1", "--by", AUTHOR], "还没有绑定接收预览的手机"),
    ],
)
def test_the_cli_explains_bad_input(
    staff_db: Database, runner: FlaskCliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    text = tmp_path / "text.txt"
    text.write_text(TEXT, encoding="utf-8")
    if args[0] == "preview":
        new(staff_db, at(3))
    result = runner.invoke(args=["campaigns", *[a.replace("{text}", str(text)) for a in args]])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_cli_preview_uses_the_configured_api(
    staff_db: Database, database_path: Path, wechat: WeChatStandIn
) -> None:
    app = create_app(
        {**TEST_CONFIG, "DATABASE": str(database_path), "WECHAT_API_BASE": wechat.base_url}
    )
    campaign_id = new(staff_db, at(3))
    bind_phone(staff_db)
    result = _runner(app).invoke(args=["campaigns", "preview", str(campaign_id), "--by", AUTHOR])
    assert result.exit_code == 0, result.output
    assert f"发到 {AUTHOR} 绑定的手机" in result.output
    assert [p["touser"] for p in wechat.previews] == [AUTHOR_PHONE]
    refused = _runner(app).invoke(
        args=["campaigns", "preview", str(campaign_id), "--openid", "oResident", "--by", AUTHOR]
    )
    assert refused.exit_code == 2 and "No such option '--openid'" in refused.output
    wechat.inject("message/mass/preview", errcode=48001, times=1, errmsg="api unauthorized")
    result = _runner(app).invoke(args=["campaigns", "preview", str(campaign_id), "--by", AUTHOR])
    assert result.exit_code == 1 and "需要微信认证" in result.output


def test_every_campaigns_and_wechat_command_is_documented() -> None:
    from click import Group

    from bot.wechat.cli import wechat
    from scheduler.cli import campaigns

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")

    def names(group: Group, prefix: str) -> list[str]:
        found = []
        for name, command in group.commands.items():
            found.append(f"{prefix} {name}")
            if isinstance(command, Group):
                found.extend(names(command, f"{prefix} {name}"))
        return found

    from scheduler.cli import report

    commands = names(campaigns, "campaigns") + names(wechat, "wechat") + names(report, "report")
    assert [name for name in commands if f"`{name}" not in readme] == []


def test_an_article_changed_after_approval_goes_back_to_draft(
    staff_db: Database, tmp_path: Path
) -> None:
    from scheduler.campaign_versions import contributors
    from scheduler.campaigns import update_campaign

    cover = tmp_path / "cover.jpg"
    cover.write_bytes(b"\xff\xd8\xff fake jpeg")
    article = {"body": "第一段", "digest": "摘要", "cover_path": str(cover)}
    campaign_id = new(staff_db, at(5), title="民法典宣传月", text="", article=article)
    submit_campaign(staff_db, campaign_id, AUTHOR, SUB)
    approve_campaign(staff_db, campaign_id, REVIEWER, SUB)
    other_cover = tmp_path / "other.png"
    other_cover.write_bytes(b"\x89PNG fake")
    changed = update_campaign(
        staff_db,
        campaign_id,
        by=REVIEWER,
        account_type=SUB,
        title="民法典宣传月",
        text="",
        send_at=at(5),
        tag_id=None,
        article={"digest": "新摘要", "cover_path": str(other_cover)},
    )
    assert (changed.status, changed.reviewer, changed.digest) == ("draft", "", "新摘要")
    assert changed.cover_path == str(other_cover) and changed.body == "第一段"
    assert contributors(staff_db, campaign_id)[REVIEWER] == ["修改"]
    submit_campaign(staff_db, campaign_id, AUTHOR, SUB)
    with pytest.raises(CampaignError, match="你修改过它"):
        approve_campaign(staff_db, campaign_id, REVIEWER, SUB)
