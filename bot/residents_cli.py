"""``flask residents …``: what Pufa holds about residents — purge old texts, forget, export.

个人信息保护法 第45条 (a resident may see and copy what is held about them) and 第47条
(it is deleted when the purpose is served or they ask): ``export`` and ``forget`` do that
for one OpenID (or API / web chat id), ``purge`` removes every text past the retention.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from bot.conversation import forget_state, stored_state
from bot.wechat.dedup import forget_resident_replies, resident_replies
from knowledge.db import get_db
from knowledge.residents import CHANNELS, hash_secret, resident_key
from knowledge.store import local_time
from knowledge.turns import (
    TURN_KINDS,
    forget_texts,
    purge_old_texts,
    resident_turns,
    retention_days,
)

log = logging.getLogger(__name__)
residents = AppGroup(
    "residents", help="居民数据：清理过期文字、删除、导出（个人信息保护法第45、47条）。"
)
CHANNEL_NAMES = {"wx": "微信", "api": "接口", "web": "网页聊天"}
_CHANNEL_OPTION = click.option(
    "--channel",
    "channels",
    multiple=True,
    default=("wx",),
    show_default=True,
    type=click.Choice(CHANNELS),
    help="标识所属的渠道：wx 为微信 OpenID，api 为接口的 user，web 为网页聊天的编号；可写多次。",
)


def resident_keys(config: dict[str, Any], user: str, channels: tuple[str, ...]) -> list[str]:
    """The stored keys of ``user`` on each of ``channels``."""
    secret = hash_secret(config)
    return [resident_key(secret, channel, user) for channel in dict.fromkeys(channels)]


def resident_report(user: str, channels: tuple[str, ...]) -> dict[str, Any]:
    """Everything held about ``user`` on ``channels``: turns, dialogue states, kept replies."""
    db = get_db()
    keys = resident_keys(current_app.config, user, channels)
    states = {key: stored_state(db, key) for key in keys}
    return {
        "keys": keys,
        "retention_days": retention_days(current_app.config),
        "turns": resident_turns(db, keys),
        "states": {key: state for key, state in states.items() if state is not None},
        "retry_replies": resident_replies(db, keys),
    }


def format_report(report: dict[str, Any]) -> str:
    """The report of :func:`resident_report` as Chinese text a resident can read."""
    lines = [
        "本系统保存的与您有关的信息",
        f"您的标识（加密后保存，不保存微信号或 OpenID 原文）：{'、'.join(report['keys'])}",
        f"对话记录：{len(report['turns'])}条；消息文字保存{report['retention_days']}天后删除，"
        "只留下不含文字的次数统计。",
    ]
    for turn in report["turns"]:
        text = "（文字已删除）" if turn["text"] is None else f"“{turn['text']}”"
        if turn["kind"] == "feedback" and turn["text"] is None:
            text = "👍" if turn["helpful"] else "👎"
        about = f" → 条目{turn['entry_id']}「{turn['entry_question']}」" if turn["entry_id"] else ""
        lines.append(
            f"· {local_time(turn['at'])} {CHANNEL_NAMES.get(turn['channel'], turn['channel'])} "
            f"{TURN_KINDS.get(turn['kind'], turn['kind'])} {text}{about}"
        )
    for key, held in report["states"].items():
        expires = local_time_from_epoch(held["expires_at"])
        lines.append(
            f"对话状态（{key}，{expires}过期）：{json.dumps(held['state'], ensure_ascii=False)}"
        )
    if report["retry_replies"]:
        lines.append(
            f"为应对微信重发而暂存的回复：{len(report['retry_replies'])}条（最多保存一天）"
        )
    if not report["turns"] and not report["states"] and not report["retry_replies"]:
        lines.append("没有保存任何与您有关的信息。")
    return "\n".join(lines)


def local_time_from_epoch(seconds: float) -> str:
    """A Unix time as Beijing time, "2025-06-01 14:03"."""
    return local_time(datetime.fromtimestamp(seconds, UTC).isoformat())


@residents.command("purge")
def purge_command() -> None:
    """Remove every message text older than RESIDENT_TEXT_RETENTION_DAYS (counts stay)."""
    days = retention_days(current_app.config)
    purged = purge_old_texts(get_db(), days)
    log.info("residents purge: %d texts older than %d days removed", purged, days)
    click.echo(f"已删除{purged}条超过{days}天的消息文字（次数统计保留）")


@residents.command("forget")
@click.argument("user")
@_CHANNEL_OPTION
def forget_command(user: str, channels: tuple[str, ...]) -> None:
    """Delete USER's message texts and dialogue state (USER: an OpenID, or an API/web id)."""
    db = get_db()
    keys = resident_keys(current_app.config, user, channels)
    texts = forget_texts(db, keys)
    states = forget_state(db, keys)
    replies = forget_resident_replies(db, keys)
    log.info(
        "residents forget %s: %d turns cleared, %d states and %d kept replies deleted",
        keys,
        texts,
        states,
        replies,
    )
    click.echo(f"已删除该居民的{texts}条对话文字、{states}份对话状态和{replies}条暂存回复")


@residents.command("export")
@click.argument("user")
@_CHANNEL_OPTION
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序处理）。")
def export_command(user: str, channels: tuple[str, ...], as_json: bool) -> None:
    """Print everything held about USER (an OpenID, or an API/web id)."""
    report = resident_report(user, channels)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        click.echo(format_report(report))


def init_app(app: Flask) -> None:
    """Register the ``residents`` command group."""
    app.cli.add_command(residents)
