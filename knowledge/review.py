"""The legality review (合法性审查): draft → submit → approve (published) or return.

A change in the works waits in ``entry_drafts`` beside the entry (at most one per
entry) while the published version keeps answering residents. Approving copies the
draft into the entry as a new version and bumps the content generation, so every worker
answers with it at its next message. Nobody approves a change they wrote or submitted.
Every action checks the account's role and is audited inside its own write transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from knowledge.audit import record_audit
from knowledge.db import write
from knowledge.entries import Entry, EntryError, entry_from_record
from knowledge.entry_checks import Finding, check_entry
from knowledge.matching.matcher import MatchIndex
from knowledge.store import create_entry, get_entry, now, update_entry
from knowledge.topic_store import known_topics
from knowledge.users import ROLE_NAMES, User

CONTENT_FIELDS = ("topic", "question", "alternates", "answer", "law_refs", "keywords")
_LIST_FIELDS = ("alternates", "law_refs", "keywords")
DRAFT_STATES = {"draft": "草稿", "in_review": "待审核"}
MAX_COMMENT_CHARS = 1000


class ReviewError(ValueError):
    """An action the workflow refuses; the message says why, for staff."""

    def __init__(self, message: str, findings: list[Finding] | None = None) -> None:
        super().__init__(message)
        self.findings = findings or []


class StaleDraftError(ReviewError):
    """The draft changed since the caller read it; nothing was written."""


class NotAllowedError(ReviewError):
    """The account may not do this: its role, a disabled account, or its own change."""


class BadInputError(ReviewError):
    """What was sent is not a valid entry or comment; the message names what is wrong."""


def http_status(error: ReviewError) -> int:
    """The HTTP status a refused action answers with: 400, 403 or 409 (a conflict of state)."""
    if isinstance(error, BadInputError):
        return 400
    if isinstance(error, NotAllowedError):
        return 403
    return 409


@dataclass(frozen=True)
class Draft:
    """The pending change of an entry, and where it stands in the review."""

    entry_id: int
    entry: Entry
    state: str
    base_version: int | None
    revision: int
    authors: list[str]
    updated_by: str
    updated_at: str
    submitted_by: str | None = None
    submitted_at: str | None = None
    returned_by: str | None = None
    returned_at: str | None = None
    return_comment: str | None = None
    record: dict[str, Any] = field(default_factory=dict)


def _draft(row: dict[str, Any]) -> Draft:
    content = {
        name: json.loads(row[name] or "[]") if name in _LIST_FIELDS else row[name]
        for name in CONTENT_FIELDS
    }
    entry = Entry(id=row["entry_id"], status=row["state"], **content)
    return Draft(
        entry_id=row["entry_id"],
        entry=entry,
        state=row["state"],
        base_version=row["base_version"],
        revision=row["revision"],
        authors=json.loads(row["authors"] or "[]"),
        updated_by=row["updated_by"],
        updated_at=row["updated_at"],
        submitted_by=row["submitted_by"],
        submitted_at=row["submitted_at"],
        returned_by=row["returned_by"],
        returned_at=row["returned_at"],
        return_comment=row["return_comment"],
        record=content,
    )


def _content(entry: Entry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in CONTENT_FIELDS}


def _columns(content: dict[str, Any]) -> dict[str, Any]:
    return {
        name: json.dumps(content[name], ensure_ascii=False)
        if name in _LIST_FIELDS
        else content[name]
        for name in CONTENT_FIELDS
    }


def get_draft(db: Database, entry_id: int) -> Draft | None:
    """The pending change of an entry, or None."""
    rows = list(db["entry_drafts"].rows_where("entry_id = ?", [entry_id], limit=1))
    return _draft(rows[0]) if rows else None


def drafts_in_review(db: Database) -> list[Draft]:
    """Every change waiting for a reviewer, the longest-waiting first."""
    rows = db["entry_drafts"].rows_where("state = 'in_review'", order_by="submitted_at")
    return [_draft(row) for row in rows]


def review_status(entry: Entry, draft: Draft | None) -> str:
    """Where an entry stands for staff: its draft's state if it has one, else its status."""
    if draft is not None and entry.status != "published":
        return draft.state
    return entry.status


def _require(user: User, permission: str, doing: str) -> None:
    if not user.can(permission):
        role = ROLE_NAMES.get(user.role, user.role)
        state = "已停用" if user.disabled else f"角色是{role}"
        raise NotAllowedError(f"账号“{user.name}”{state}，不能{doing}。")


def _entry_or_error(db: Database, entry_id: int) -> Entry:
    entry = get_entry(db, entry_id)
    if entry is None:
        raise ReviewError(f"没有编号为 {entry_id} 的条目。")
    return entry


def draft_entry(db: Database, record: dict[str, Any]) -> Entry:
    """A form's or file's record checked as a draft entry; :class:`ReviewError` names the field."""
    try:
        return entry_from_record({**record, "status": "draft"}, topics=known_topics(db))
    except EntryError as error:
        raise BadInputError(
            f"{_FIELD_NAMES.get(error.field, error.field)}：{error.message}"
        ) from None


_FIELD_NAMES = {
    "topic": "主题",
    "question": "标准问题",
    "answer": "答案",
    "alternates": "其他问法",
    "law_refs": "法律依据",
    "keywords": "关键词",
    "record": "条目",
}


def save_draft(
    db: Database,
    user: User,
    record: dict[str, Any],
    entry_id: int | None = None,
    expected_revision: int | None = None,
) -> Draft:
    """Save a new entry, or a change of entry ``entry_id``, as its draft.

    The published version (if any) keeps answering. A draft that was in review goes
    back to draft: the reviewer must see what will be published. ``expected_revision``
    guards against lost edits: when someone saved the draft since, nothing is written.
    """
    _require(user, "edit", "编辑条目")
    checked = draft_entry(db, record)
    content = _content(checked)
    at = now()
    with write(db):
        if entry_id is None:
            entry_id = create_entry(db, checked, user.name)
            base_version = None
            current = None
        else:
            entry = _entry_or_error(db, entry_id)
            current = get_draft(db, entry_id)
            base_version = entry.version if entry.status in ("published", "archived") else None
        if expected_revision is not None and (current.revision if current else 0) != (
            expected_revision
        ):
            raise StaleDraftError(
                f"条目 {entry_id} 的草稿在您打开之后被“{current.updated_by if current else '他人'}”"
                "修改过：请重新打开后再改，您的修改没有保存。"
            )
        authors = list(dict.fromkeys([*(current.authors if current else []), user.name]))
        row = {
            "entry_id": entry_id,
            **_columns(content),
            "state": "draft",
            "base_version": current.base_version if current else base_version,
            "revision": (current.revision if current else 0) + 1,
            "authors": json.dumps(authors, ensure_ascii=False),
            "updated_by": user.name,
            "updated_at": at,
            "submitted_by": None,
            "submitted_at": None,
            "returned_by": current.returned_by if current else None,
            "returned_at": current.returned_at if current else None,
            "return_comment": current.return_comment if current else None,
        }
        db["entry_drafts"].upsert(row, pk="entry_id")
        record_audit(
            db,
            user.name,
            "save_draft",
            "entry",
            entry_id,
            f"保存草稿：{checked.question}",
            before=current.record if current else None,
            after=content,
        )
    draft = get_draft(db, entry_id)
    assert draft is not None
    return draft


def _draft_for(db: Database, entry: Entry, user: User) -> Draft:
    """The entry's draft; an unpublished entry without one (e.g. imported) gets one now."""
    assert entry.id is not None
    draft = get_draft(db, entry.id)
    if draft is not None:
        return draft
    if entry.status != "draft":
        raise ReviewError(f"条目 {entry.id} 没有待提交的修改：请先编辑并保存草稿。")
    return save_draft(db, user, _content(entry), entry.id)


def submit_draft(db: Database, user: User, entry_id: int, live: MatchIndex) -> Draft:
    """Send an entry's draft to review, once it passes the checks' errors.

    ``live`` is the index residents are answered with now (for the collision check).
    Raises :class:`ReviewError` with the blocking findings when the checks fail.
    """
    _require(user, "edit", "提交审核")
    with write(db):
        entry = _entry_or_error(db, entry_id)
        draft = _draft_for(db, entry, user)
        if draft.state == "in_review":
            raise ReviewError(f"条目 {entry_id} 已经在等待审核。")
        report = check_entry(db, draft.entry, live)
        if report.errors:
            problems = "；".join(finding.message for finding in report.errors)
            raise BadInputError(f"检查未通过，不能提交：{problems}", report.errors)
        at = now()
        db["entry_drafts"].update(
            entry_id, {"state": "in_review", "submitted_by": user.name, "submitted_at": at}
        )
        warnings = sum(finding.severity == "warning" for finding in report.findings)
        record_audit(
            db,
            user.name,
            "submit",
            "entry",
            entry_id,
            f"提交审核：{draft.entry.question}（{warnings}条提醒）",
        )
    submitted = get_draft(db, entry_id)
    assert submitted is not None
    return submitted


def _in_review(db: Database, entry_id: int) -> Draft:
    _entry_or_error(db, entry_id)
    draft = get_draft(db, entry_id)
    if draft is None or draft.state != "in_review":
        raise ReviewError(f"条目 {entry_id} 没有等待审核的修改。")
    return draft


def approve_draft(
    db: Database, user: User, entry_id: int, expected_revision: int | None = None
) -> Entry:
    """Publish an entry's draft in review as its new version; the draft is done with.

    Refused for the draft's own authors and submitter (nobody approves their own
    change), and when the draft changed since the reviewer read it (``expected_revision``).
    """
    _require(user, "review", "审核条目")
    with write(db):
        draft = _in_review(db, entry_id)
        if user.name in draft.authors or user.name == draft.submitted_by:
            raise NotAllowedError(
                f"不能审核通过自己的修改：条目 {entry_id} 的这一版由“{user.name}”编写或提交，"
                "请由另一位审核人审核。"
            )
        if expected_revision is not None and draft.revision != expected_revision:
            raise StaleDraftError(f"条目 {entry_id} 的草稿在您审阅后又改过：请重新审阅。")
        before = get_entry(db, entry_id)
        assert before is not None
        published = update_entry(db, entry_id, {**draft.record, "status": "published"}, user.name)
        db["entry_drafts"].delete(entry_id)
        record_audit(
            db,
            user.name,
            "approve",
            "entry",
            entry_id,
            f"审核通过并发布第{published.version}版：{published.question}"
            f"（编写：{'、'.join(draft.authors)}）",
            before={**_content(before), "status": before.status},
            after=draft.record,
        )
    return published


def return_draft(db: Database, user: User, entry_id: int, comment: str) -> Draft:
    """Send a draft in review back to its authors with the reviewer's comment."""
    _require(user, "review", "退回条目")
    comment = comment.strip()
    if not comment:
        raise BadInputError("退回时请写明原因，让编辑知道要改什么。")
    if len(comment) > MAX_COMMENT_CHARS:
        raise BadInputError(f"退回意见太长（{len(comment)}字，最多{MAX_COMMENT_CHARS}字）。")
    with write(db):
        draft = _in_review(db, entry_id)
        db["entry_drafts"].update(
            entry_id,
            {
                "state": "draft",
                "returned_by": user.name,
                "returned_at": now(),
                "return_comment": comment,
            },
        )
        record_audit(
            db, user.name, "return", "entry", entry_id, f"退回：{draft.entry.question}：{comment}"
        )
    returned = get_draft(db, entry_id)
    assert returned is not None
    return returned


def archive_entry(db: Database, user: User, entry_id: int) -> Entry:
    """Take a published entry off the air (residents no longer get it); its history stays."""
    _require(user, "review", "归档条目")
    with write(db):
        entry = _entry_or_error(db, entry_id)
        if entry.status == "archived":
            raise ReviewError(f"条目 {entry_id} 已经归档。")
        archived = update_entry(db, entry_id, {"status": "archived"}, user.name)
        record_audit(
            db,
            user.name,
            "archive",
            "entry",
            entry_id,
            f"归档：{entry.question}",
            before={"status": entry.status},
            after={"status": "archived"},
        )
    return archived


def restore_version(db: Database, user: User, entry_id: int, version: int) -> Draft:
    """Make an old version of an entry its draft again, to be submitted and reviewed.

    Refused while the entry has a pending draft, so that nobody's work is overwritten.
    """
    _require(user, "edit", "恢复旧版本")
    with write(db):
        _entry_or_error(db, entry_id)
        pending = get_draft(db, entry_id)
        if pending is not None:
            state = DRAFT_STATES[pending.state]
            raise ReviewError(
                f"条目 {entry_id} 已有一份{state}（{pending.updated_by} 编写）：请先处理它再恢复旧版本。"
            )
        rows = list(
            db["entry_versions"].rows_where(
                "entry_id = ? AND version = ?", [entry_id, version], limit=1
            )
        )
        if not rows:
            raise ReviewError(f"条目 {entry_id} 没有第{version}版。")
        old = {
            name: json.loads(rows[0][name] or "[]") if name in _LIST_FIELDS else rows[0][name]
            for name in CONTENT_FIELDS
        }
        draft = save_draft(db, user, old, entry_id)
        record_audit(
            db, user.name, "restore", "entry", entry_id, f"把第{version}版恢复为草稿", after=old
        )
    return draft
