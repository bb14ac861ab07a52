"""``flask campaigns …`` commands: thin layers over the calendar, campaign and sender functions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from bot.wechat.api import WeChatAPI, WeChatAPIError, api_for
from knowledge.db import get_db
from knowledge.store import SHANGHAI
from knowledge.topics import TOPICS
from scheduler.calendar import (
    CalendarError,
    add_local_day,
    days_in,
    format_day,
    set_window,
)
from scheduler.campaigns import (
    STATUSES,
    Campaign,
    CampaignError,
    approve_campaign,
    cancel_campaign,
    create_campaign,
    get_campaign,
    list_campaigns,
    parse_send_time,
    return_campaign,
    submit_campaign,
)
from scheduler.report import report_csv, report_lines, year_report
from scheduler.sender import preview_campaign

log = logging.getLogger(__name__)
campaigns = AppGroup("campaigns", help="普法宣传日历与群发：计划、审核、预览、定时发送。")
report = AppGroup("report", help="年度普法宣传报告。")
_FILE = click.Path(dir_okay=False, path_type=Path, exists=True)


def _account_type() -> str:
    return str(current_app.config["WECHAT_ACCOUNT_TYPE"])


def _refused(action: str, error: Exception) -> click.ClickException:
    log.warning("campaigns %s refused: %s", action, error)
    return click.ClickException(str(error))


def _line(campaign: Campaign) -> str:
    when = campaign.send_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    line = (
        f"#{campaign.id}  {when}  {campaign.status_name}  {campaign.title}  （{campaign.audience}）"
    )
    if campaign.status == "sent" and campaign.result_sent is not None:
        line += f"  送达 {campaign.result_sent}/{campaign.result_total}"
    elif campaign.delivery_unconfirmed:
        line += "  已发送，送达数未确认"
    if campaign.status == "failed":
        line += f"  错误码 {campaign.error_code}：{campaign.error_message}"
    return line


@campaigns.command("calendar")
@click.option("--year", type=click.IntRange(1901, 2099), default=lambda: date.today().year)
def calendar_command(year: int) -> None:
    """Print the year's publicity days, one a line: date, name, rule."""
    for day in days_in(year, get_db()):
        click.echo(format_day(day))


@campaigns.command("window")
@click.argument("key")
@click.option("--year", type=click.IntRange(1901, 2099), required=True)
@click.option("--start", required=True, help="开始日期，月-日，如 06-16。")
@click.option("--end", required=True, help="结束日期，月-日。")
@click.option("--by", required=True, help="操作人。")
def window_command(key: str, year: int, start: str, end: str, by: str) -> None:
    """Set the dates announced this year for an annual campaign window (e.g. antifraud_month)."""
    try:
        set_window(get_db(), key, year, start, end, by)
    except CalendarError as error:
        raise _refused("window", error) from None
    click.echo(f"已设定 {year} 年 {key}：{start} 至 {end}")


@campaigns.command("local-day")
@click.argument("key")
@click.option("--name", required=True, help="宣传日名称，如 泰山景区生态保护日。")
@click.option("--date", "month_day", required=True, help="每年的日期，月-日，如 06-09。")
@click.option("--law", "laws", multiple=True, help="当天宣传的法规（可重复）。")
@click.option("--topic", "topics", multiple=True, type=click.Choice(sorted(TOPICS)))
@click.option("--by", required=True, help="操作人。")
def local_day_command(
    key: str, name: str, month_day: str, laws: tuple[str, ...], topics: tuple[str, ...], by: str
) -> None:
    """Add a local publicity day held every year on the same date."""
    try:
        add_local_day(get_db(), key, name, month_day, list(laws), list(topics), by)
    except CalendarError as error:
        raise _refused("local-day", error) from None
    click.echo(f"已添加本地宣传日 {name}（每年 {month_day}）")


@campaigns.command("create")
@click.option("--title", required=True, help="标题（图文标题不超过64字节）。")
@click.option("--text-file", type=_FILE, help="群发文字（UTF-8，不超过300字）。")
@click.option("--body-file", type=_FILE, help="图文正文（UTF-8）；与 --cover 一起发图文。")
@click.option("--cover", type=_FILE, help="图文封面图片（jpg/png，不超过1MB）。")
@click.option("--digest", default="", help="图文摘要。")
@click.option("--at", "send_at", required=True, help="发送时间（北京时间），如 2027-04-15 09:00。")
@click.option("--tag", "tag_id", type=int, help="只发给这个标签的关注者；不写则发给全部关注者。")
@click.option("--day", "day_key", default="", help="所属宣传日的标识；不写则按发送日期自动关联。")
@click.option("--by", default=None, help="编写人（工作人员账号名）。")
def create_command(
    title: str,
    text_file: Path | None,
    body_file: Path | None,
    cover: Path | None,
    digest: str,
    send_at: str,
    tag_id: int | None,
    day_key: str,
    by: str | None,
) -> None:
    """Create a draft campaign: a text (--text-file) or an article (--body-file and --cover)."""
    if (text_file is None) == (body_file is None):
        raise click.UsageError("请给出 --text-file（文字）或 --body-file（图文）中的一个。")
    try:
        moment = parse_send_time(send_at)
        if text_file is not None:
            text, article = text_file.read_text(encoding="utf-8").strip(), None
        else:
            assert body_file is not None
            article = {
                "body": body_file.read_text(encoding="utf-8"),
                "digest": digest,
                "cover_path": str(cover.resolve()) if cover else "",
            }
            text = ""
        db = get_db()
        if not day_key:
            on_day = [d for d in days_in(moment.year, db) if d.covers(moment.date())]
            on_day.sort(key=lambda d: d.end is not None)  # a day itself before a window
            day_key = on_day[0].key if on_day else ""
        campaign_id = create_campaign(
            db,
            title=title,
            send_at=moment,
            account_type=_account_type(),
            by=by,
            text=text,
            article=article,
            tag_id=tag_id,
            day_key=day_key,
        )
    except UnicodeDecodeError:
        raise click.ClickException("文件不是 UTF-8 编码的文字。") from None
    except CampaignError as error:
        raise _refused("create", error) from None
    click.echo(f"已创建群发 #{campaign_id}（草稿）")


@campaigns.command("submit")
@click.argument("campaign_id", type=int)
@click.option("--by", required=True, help="提交人。")
def submit_command(campaign_id: int, by: str) -> None:
    """Send a draft to review."""
    try:
        campaign = submit_campaign(get_db(), campaign_id, by, _account_type())
    except CampaignError as error:
        raise _refused("submit", error) from None
    click.echo(_line(campaign))


@campaigns.command("approve")
@click.argument("campaign_id", type=int)
@click.option("--by", required=True, help="审核人（不能是编写人）。")
def approve_command(campaign_id: int, by: str) -> None:
    """Approve a campaign in review; the scheduler sends it at its time."""
    try:
        campaign = approve_campaign(get_db(), campaign_id, by, _account_type())
    except CampaignError as error:
        raise _refused("approve", error) from None
    click.echo(_line(campaign))


@campaigns.command("return")
@click.argument("campaign_id", type=int)
@click.option("--by", required=True, help="审核人。")
def return_command(campaign_id: int, by: str) -> None:
    """Send a campaign in review back to draft."""
    try:
        campaign = return_campaign(get_db(), campaign_id, by)
    except CampaignError as error:
        raise _refused("return", error) from None
    click.echo(_line(campaign))


@campaigns.command("cancel")
@click.argument("campaign_id", type=int)
@click.option("--by", required=True, help="操作人。")
def cancel_command(campaign_id: int, by: str) -> None:
    """Cancel a campaign that has not started sending."""
    try:
        campaign = cancel_campaign(get_db(), campaign_id, by)
    except CampaignError as error:
        raise _refused("cancel", error) from None
    click.echo(_line(campaign))


@campaigns.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--year", type=click.IntRange(1901, 2099))
def list_command(status: str | None, year: int | None) -> None:
    """List campaigns by send time, with status and result."""
    for campaign in list_campaigns(get_db(), status, year):
        click.echo(_line(campaign))


@campaigns.command("preview")
@click.argument("campaign_id", type=int)
@click.option("--by", required=True, help="工作人员账号名：预览发到这个账号绑定的手机。")
def preview_command(campaign_id: int, by: str) -> None:
    """Send the campaign before approval to the phone a staff account bound (no quota used)."""
    db = get_db()
    api = api_for(current_app, db)
    if api is None:
        raise click.ClickException(
            "未设置 PUFA_WECHAT_APP_ID 和 PUFA_WECHAT_APP_SECRET，无法预览。"
        )
    try:
        preview_campaign(db, api, campaign_id, by)
    except CampaignError as error:
        raise _refused("preview", error) from None
    click.echo(f"已把群发 #{campaign_id} 的预览发到 {by} 绑定的手机")


@campaigns.command("status")
@click.argument("campaign_id", type=int)
def status_command(campaign_id: int) -> None:
    """Ask WeChat (mass/get) how a sent campaign's mass send stands."""
    db = get_db()
    campaign = get_campaign(db, campaign_id)
    if campaign is None:
        raise click.ClickException(f"没有编号为 {campaign_id} 的群发")
    click.echo(_line(campaign))
    if not campaign.msg_id:
        raise click.ClickException("这次群发没有微信的 msg_id（未发出，或由重复拦截确认已发出）。")
    answer = _wechat_call(lambda api: api.mass_status(campaign.msg_id))
    click.echo(f"微信：{answer.get('msg_status', answer)}")


@campaigns.command("tags")
def tags_command() -> None:
    """List the account's follower tags (their ids go to ``create --tag``)."""
    for tag in _wechat_call(lambda api: api.tags()):
        click.echo(f"{tag.get('id')}\t{tag.get('name')}\t{tag.get('count')}人")


def _wechat_call(call: Callable[[WeChatAPI], Any]) -> Any:
    api = api_for(current_app, get_db())
    if api is None:
        raise click.ClickException("未设置 PUFA_WECHAT_APP_ID 和 PUFA_WECHAT_APP_SECRET。")
    try:
        return call(api)
    except WeChatAPIError as error:
        log.warning("wechat call refused: %s", error)
        raise click.ClickException(f"微信未能回答：{error}") from None


@campaigns.command("run")
def run_command() -> None:
    """Run the scheduler process: sends approved campaigns on time, daily housekeeping."""
    from scheduler.process import CampaignScheduler, NotConfigured

    try:
        scheduler = CampaignScheduler(current_app._get_current_object())  # type: ignore[attr-defined]
    except NotConfigured as error:
        raise click.ClickException(str(error)) from None
    scheduler.run()


@report.command("year")
@click.argument("year", type=click.IntRange(1901, 2099))
@click.option(
    "--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), help="另存为 CSV。"
)
def report_year_command(year: int, csv_path: Path | None) -> None:
    """Print the year's publicity figures: campaigns sent and their reach, residents' questions."""
    figures = year_report(get_db(), year)
    for line in report_lines(figures):
        click.echo(line)
    if csv_path is not None:
        try:
            csv_path.write_text(report_csv(figures), encoding="utf-8-sig")
        except OSError as error:
            raise click.ClickException(f"无法写入文件 {csv_path}：{error.strerror}") from None
        click.echo(f"已保存到 {csv_path}")


def init_app(app: Flask) -> None:
    """Register the ``campaigns`` and ``report`` command groups."""
    app.cli.add_command(campaigns)
    app.cli.add_command(report)
