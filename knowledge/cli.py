"""``flask kb …`` commands: thin wrappers over functions the tests call too."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from knowledge.db import get_db
from knowledge.entries import STATUSES, EntryError
from knowledge.entry_checks import SEVERITY_NAMES, check_entry
from knowledge.exchange import ExchangeError, export_file, import_file
from knowledge.matching.calibration import (
    LONG_MAX_OUT_OF_SCOPE,
    LONG_MAX_WRONG,
    LONG_OUT_OF_SCOPE_FILE,
    MAX_OUT_OF_SCOPE,
    MAX_WRONG,
    OUT_OF_SCOPE_FILE,
    STORY_OPENINGS_FILE,
    calibrate,
    load_out_of_scope,
    observe,
    told_as_stories,
)
from knowledge.matching.evaluation import (
    HALVES,
    EvaluationError,
    evaluate,
    format_report,
    read_labeled_file,
    resolver_for,
    select_part,
)
from knowledge.matching.live_index import current_index
from knowledge.matching.matcher import MatchIndex
from knowledge.matching.semantic import SEMANTIC_STATES, messages_embedded, semantic_status
from knowledge.review import ReviewError, approve_draft, get_draft, return_draft, submit_draft
from knowledge.store import count_entries, get_entry, published_entries, set_status
from knowledge.synonyms import (
    add_synonym_group,
    delete_synonym_group,
    synonym_groups,
    synonym_groups_with_ids,
)
from knowledge.topic_store import TopicError, add_topic, known_topics
from knowledge.unanswered import export_unanswered, unanswered_table
from knowledge.users import User, get_user
from knowledge.users_cli import users

log = logging.getLogger(__name__)
kb = AppGroup("kb", help="知识库：导入、导出、评测。")
_FILE = click.Path(dir_okay=False, path_type=Path)


@kb.command("stats")
def stats_command() -> None:
    """Print how many entries the knowledge base holds."""
    click.echo(f"{count_entries(get_db())} entries")


@kb.command("import")
@click.argument("path", type=_FILE)
@click.option("--by", default="导入", show_default=True, help="记在版本记录里的导入人。")
def import_command(path: Path, by: str) -> None:
    """Import entries from a .json, .yaml/.yml or .csv file, all or nothing.

    A record whose question matches an existing entry updates it as a new version;
    other records become new entries (drafts unless the record names a status).
    """
    try:
        result = import_file(get_db(), path, by)
    except ExchangeError as error:
        log.warning("import of %s refused: %s", path, error)
        raise click.ClickException(str(error)) from None
    click.echo(str(result))


@kb.command("export")
@click.argument("path", type=_FILE)
@click.option("--status", type=click.Choice(STATUSES), help="只导出这一状态的条目。")
def export_command(path: Path, status: str | None) -> None:
    """Export entries to a .json, .yaml/.yml or .csv file (CSV opens in Excel)."""
    try:
        count = export_file(get_db(), path, status)
    except ExchangeError as error:
        log.warning("export to %s refused: %s", path, error)
        raise click.ClickException(str(error)) from None
    click.echo(f"已导出{count}条到 {path}")


@kb.command("status")
@click.argument("entry_id", type=int)
@click.argument("status", type=click.Choice(STATUSES))
@click.option("--by", required=True, help="记在版本记录里的操作人，如审核人的名字。")
def status_command(entry_id: int, status: str, by: str) -> None:
    """Move an entry to STATUS (published: residents get it; archived: they no longer do)."""
    db = get_db()
    entry = get_entry(db, entry_id)
    if entry is None:
        raise click.ClickException(f"没有编号为 {entry_id} 的条目")
    if entry.status == status:
        click.echo(f"条目 {entry_id} 已经是 {status}，未改动")
        return
    try:
        updated = set_status(db, entry_id, status, by)
    except EntryError as error:
        log.warning("entry %d: status %s refused: %s", entry_id, status, error)
        raise click.ClickException(f"条目 {entry_id} 不能改为 {status}：{error}") from None
    log.info("entry %d: %s -> %s by %s", entry_id, entry.status, status, by)
    click.echo(
        f"条目 {entry_id}「{updated.question}」：{entry.status} → {status}（第{updated.version}版）"
    )


@kb.command("unanswered")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--export", "export_path", type=_FILE, help="写入 CSV 文件（Excel 可直接打开）。")
def unanswered_command(limit: int, export_path: Path | None) -> None:
    """List the latest questions Pufa could not answer directly, or export them as CSV."""
    db = get_db()
    if export_path is not None:
        try:
            count = export_unanswered(db, export_path, limit)
        except OSError as error:
            log.warning("export of unanswered questions to %s refused: %s", export_path, error)
            raise click.ClickException(f"无法写入文件 {export_path}：{error.strerror}") from None
        click.echo(f"已导出{count}条到 {export_path}")
        return
    for asked_at, kind, text, best, score in unanswered_table(db, limit):
        click.echo(f"{asked_at}  {kind}  {text}" + (f"  → {best}（{score}）" if best else ""))


@kb.command("eval")
@click.argument("path", type=_FILE)
@click.option("--show-errors", is_flag=True, help="列出答错和未答出的问题及其候选条目。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出各项数字。")
@click.option(
    "--part",
    type=click.Choice(HALVES),
    help="只评测标为这一半（part）的问题。",
)
def eval_command(path: Path, show_errors: bool, as_json: bool, part: str | None) -> None:
    """Score the matcher on a labeled JSON-lines file of questions."""
    db = get_db()
    entries = published_entries(db)
    try:
        questions = read_labeled_file(path)
        if part is not None:
            questions = select_part(questions, part)
        embedded_before = messages_embedded()
        figures = evaluate(
            current_index(db, str(current_app.config["DATABASE"])),
            questions,
            resolver_for(entries),
        )
    except EvaluationError as error:
        log.warning("evaluation of %s refused: %s", path, error)
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(figures.as_dict(show_errors), ensure_ascii=False, indent=2))
    else:
        by_id = {entry.id: entry.question for entry in entries}
        click.echo(format_report(figures, by_id if show_errors else None))
        status = semantic_status()
        click.echo(
            f"语义判断：{SEMANTIC_STATES[status['state']]}；"
            f"本次评测中 {status['messages_embedded'] - embedded_before} 条消息做了语义计算。"
        )


@kb.command("calibrate")
@click.option(
    "--out-of-scope",
    "out_of_scope_path",
    type=_FILE,
    default=OUT_OF_SCOPE_FILE,
    show_default=True,
    help="每行一个知识库答不了的问题。",
)
@click.option(
    "--long-out-of-scope",
    "long_out_of_scope_path",
    type=_FILE,
    default=LONG_OUT_OF_SCOPE_FILE,
    show_default=True,
    help="每行一段知识库答不了的长咨询（讲经过再提问）。",
)
@click.option("--max-wrong", default=MAX_WRONG, show_default=True, help="短问题答错比例上限。")
@click.option(
    "--long-max-wrong", default=LONG_MAX_WRONG, show_default=True, help="长咨询答错比例上限。"
)
@click.option(
    "--max-out-of-scope",
    default=MAX_OUT_OF_SCOPE,
    show_default=True,
    help="范围外被直接回答的比例上限。",
)
@click.option(
    "--long-max-out-of-scope",
    default=LONG_MAX_OUT_OF_SCOPE,
    show_default=True,
    help="范围外的长咨询被直接回答的比例上限。",
)
def calibrate_command(
    out_of_scope_path: Path,
    long_out_of_scope_path: Path,
    max_wrong: float,
    long_max_wrong: float,
    max_out_of_scope: float,
    long_max_out_of_scope: float,
) -> None:
    """Choose band thresholds for short and for long messages from held-out alternates
    and out-of-scope questions and stories."""
    db = get_db()
    short_out_of_scope = load_out_of_scope(out_of_scope_path)
    observations = observe(
        published_entries(db),
        synonym_groups(db),
        short_out_of_scope + load_out_of_scope(long_out_of_scope_path),
        told_as_stories(short_out_of_scope, load_out_of_scope(STORY_OPENINGS_FILE)),
    )
    try:
        results = calibrate(
            observations, max_wrong, max_out_of_scope, long_max_out_of_scope, long_max_wrong
        )
    except ValueError as error:
        log.warning("calibration refused: %s", error)
        raise click.ClickException(f"没有阈值能同时满足两个上限：{error}") from None
    semantic = any(o.semantic for o in observations)
    click.echo(
        "with the semantic opinion"
        if semantic
        else f"lexical only (semantic model: {semantic_status()['state']})"
    )
    for name, result in zip(("short messages", "long messages"), results, strict=True):
        click.echo(
            f"{name}: held-out alternates {result.in_scope}, "
            f"out-of-scope questions {result.out_of_scope}"
        )
        click.echo(
            f"  direct correct {result.direct_correct:.1%}, direct wrong {result.direct_wrong:.1%}"
        )
        click.echo(
            f"  out of scope answered {result.out_of_scope_answered:.1%}, "
            f"fallback {result.out_of_scope_fallback:.1%}"
        )
    click.echo(f"thresholds: {results[0].thresholds}")
    click.echo(f"long-message thresholds: {results[1].thresholds}")


@kb.group("synonyms")
def synonyms_group() -> None:
    """同义词组：列出、添加、删除（匹配时组内的词都按第一个词处理）。"""


@synonyms_group.command("list")
def synonyms_list_command() -> None:
    """List every synonym group with its id."""
    for group_id, words in synonym_groups_with_ids(get_db()):
        click.echo(f"{group_id}\t{' / '.join(words)}")


@synonyms_group.command("add")
@click.argument("words", nargs=-1, required=True)
@click.option("--by", default="cli", show_default=True, help="记在操作记录里的操作人。")
def synonyms_add_command(words: tuple[str, ...], by: str) -> None:
    """Add a group: the first word is the one the others are folded into."""
    try:
        group_id = add_synonym_group(get_db(), list(words), by=by)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"已添加同义词组 {group_id}：{' / '.join(words)}")


@synonyms_group.command("delete")
@click.argument("group_id", type=int)
@click.option("--by", default="cli", show_default=True, help="记在操作记录里的操作人。")
def synonyms_delete_command(group_id: int, by: str) -> None:
    """Delete a group by its id (see ``kb synonyms list``)."""
    if not delete_synonym_group(get_db(), group_id, by=by):
        raise click.ClickException(f"没有编号为 {group_id} 的同义词组")
    click.echo(f"已删除同义词组 {group_id}")


def _account(name: str) -> User:
    """The staff account a ``--by`` option names; a clear error if there is none."""
    user = get_user(get_db(), name)
    if user is None:
        raise click.ClickException(f"没有名为“{name}”的账号（flask users list 列出全部账号）")
    return user


def _live_index() -> MatchIndex:
    return current_index(get_db(), str(current_app.config["DATABASE"]))


def _refused(action: str, entry_id: int, error: ReviewError) -> click.ClickException:
    log.warning("entry %d: %s refused: %s", entry_id, action, error)
    return click.ClickException(str(error))


@kb.command("check")
@click.argument("entry_id", type=int)
def check_command(entry_id: int) -> None:
    """Run the checks on an entry's draft (or the entry itself) and list the findings."""
    db = get_db()
    entry = get_entry(db, entry_id)
    if entry is None:
        raise click.ClickException(f"没有编号为 {entry_id} 的条目")
    draft = get_draft(db, entry_id)
    report = check_entry(db, draft.entry if draft else entry, _live_index())
    for finding in report.findings:
        if finding.severity != "info":
            click.echo(f"{SEVERITY_NAMES[finding.severity]}  {finding.message}")
    click.echo(f"{len(report.errors)}处错误；检查用时{report.seconds:.2f}秒")


@kb.command("submit")
@click.argument("entry_id", type=int)
@click.option("--by", required=True, help="提交人的账号名（编辑）。")
def submit_command(entry_id: int, by: str) -> None:
    """Send an entry's draft to review (after the checks pass)."""
    try:
        draft = submit_draft(get_db(), _account(by), entry_id, _live_index())
    except ReviewError as error:
        raise _refused("submit", entry_id, error) from None
    click.echo(f"条目 {entry_id}「{draft.entry.question}」已提交审核")


@kb.command("approve")
@click.argument("entry_id", type=int)
@click.option("--by", required=True, help="审核人的账号名；不能是这一版的编写人或提交人。")
def approve_command(entry_id: int, by: str) -> None:
    """Approve an entry's draft in review: it is published and answers residents."""
    try:
        entry = approve_draft(get_db(), _account(by), entry_id)
    except ReviewError as error:
        raise _refused("approve", entry_id, error) from None
    log.info("entry %d: approved by %s as version %d", entry_id, by, entry.version)
    click.echo(f"条目 {entry_id}「{entry.question}」已审核通过并发布（第{entry.version}版）")


@kb.command("return")
@click.argument("entry_id", type=int)
@click.option("--by", required=True, help="审核人的账号名。")
@click.option("--comment", required=True, help="退回的原因，编辑会看到。")
def return_command(entry_id: int, by: str, comment: str) -> None:
    """Return an entry's draft in review to its authors with a comment."""
    try:
        draft = return_draft(get_db(), _account(by), entry_id, comment)
    except ReviewError as error:
        raise _refused("return", entry_id, error) from None
    click.echo(f"条目 {entry_id}「{draft.entry.question}」已退回：{comment}")


@kb.group("topics")
def topics_group() -> None:
    """主题：列出、添加（菜单仍是随软件发布的八个主题）。"""


@topics_group.command("list")
def topics_list_command() -> None:
    """List every topic: key and name."""
    for key, name in known_topics(get_db()).items():
        click.echo(f"{key}\t{name}")


@topics_group.command("add")
@click.argument("key")
@click.argument("name")
@click.option("--by", default="命令行", show_default=True, help="记在审计日志里的操作人。")
def topics_add_command(key: str, name: str, by: str) -> None:
    """Add a topic KEY (lower-case letters, e.g. labor) shown to staff and residents as NAME."""
    try:
        add_topic(get_db(), key, name, by)
    except TopicError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"已添加主题 {key}：{name}")


def init_app(app: Flask) -> None:
    """Register the ``kb`` and ``users`` command groups."""
    app.cli.add_command(kb)
    app.cli.add_command(users)
