"""``flask wechat …`` commands: the custom menu, and the local stand-in of the WeChat API."""

from __future__ import annotations

import logging

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from bot.wechat.api import WeChatAPIError, api_for
from bot.wechat.menu import MenuError, configured_menu
from bot.wechat.standin import WeChatStandIn
from knowledge.db import get_db

log = logging.getLogger(__name__)
wechat = AppGroup("wechat", help="微信公众号：自定义菜单、本地接口替身。")


@wechat.group("menu")
def menu_group() -> None:
    """自定义菜单。"""


@menu_group.command("push")
def menu_push_command() -> None:
    """Set the account's custom menu from WECHAT_MENU (default: topics and 人工)."""
    try:
        buttons = configured_menu(current_app.config["WECHAT_MENU"])
    except MenuError as error:
        raise click.ClickException(str(error)) from None
    api = api_for(current_app, get_db())
    if api is None:
        raise click.ClickException("未设置 PUFA_WECHAT_APP_ID 和 PUFA_WECHAT_APP_SECRET。")
    try:
        api.create_menu(buttons)
    except WeChatAPIError as error:
        log.warning("menu push refused: %s", error)
        raise click.ClickException(f"微信未接受菜单：{error}") from None
    names = " | ".join(button["name"] for button in buttons)
    click.echo(f"已设置自定义菜单：{names}")


@wechat.command("standin")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="端口；0 为任选空闲端口。")
@click.option("--webhook", default="", help="群发完成事件（MASSSENDJOBFINISH）推送到的网址。")
def standin_command(port: int, webhook: str) -> None:
    """Serve the local WeChat API stand-in on 127.0.0.1 (for demos; never in production)."""
    config = current_app.config
    server = WeChatStandIn(
        config["WECHAT_APP_ID"],
        config["WECHAT_APP_SECRET"],
        port=port,
        event_url=webhook,
        event_token=config["WECHAT_TOKEN"],
    )
    click.echo(f"微信接口替身：{server.base_url}  （AppID {config['WECHAT_APP_ID']}）", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("微信接口替身已停止", err=True)


def init_app(app: Flask) -> None:
    """Register the ``wechat`` command group."""
    app.cli.add_command(wechat)
