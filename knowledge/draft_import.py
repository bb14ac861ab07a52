"""Import from the console: every record of a file becomes a draft that goes through review.

Unlike ``flask kb import`` (the operator's tool, which can publish directly), a file
uploaded by staff changes nothing residents get: a record whose question matches an
entry becomes that entry's pending draft, any other record a new draft entry. All
records are checked first, and all are saved or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from knowledge.db import write
from knowledge.exchange import FIELDS, InvalidRecordsError, RecordProblem
from knowledge.matching.normalize import clean_text
from knowledge.review import CONTENT_FIELDS, ReviewError, draft_entry, get_draft, save_draft
from knowledge.store import get_entry, list_entries
from knowledge.users import User


@dataclass(frozen=True)
class DraftImport:
    """How many drafts an upload made: for new entries and for existing ones."""

    created: int
    changed: int

    def __str__(self) -> str:
        return f"导入完成：新建草稿{self.created}条，已有条目的修改草稿{self.changed}条；审核通过后才会发布。"


def _current_content(db: Database, entry_id: int) -> dict[str, Any]:
    """What a change of ``entry_id`` starts from: its pending draft, else the entry."""
    draft = get_draft(db, entry_id)
    if draft is not None:
        return dict(draft.record)
    entry = get_entry(db, entry_id)
    assert entry is not None
    return {name: getattr(entry, name) for name in CONTENT_FIELDS}


def _plan(db: Database, records: list[Any]) -> list[tuple[int | None, dict[str, Any]]]:
    """Each record's target entry (None: new) and full content; raises listing every problem."""
    existing = {clean_text(entry.question): entry.id for entry in list_entries(db)}
    problems: list[RecordProblem] = []
    plan: list[tuple[int | None, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for position, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            problems.append(RecordProblem(position, None, "record", "应为一个对象（键值对）"))
            continue
        question = record.get("question") if isinstance(record.get("question"), str) else None
        unknown = sorted(str(name) for name in record if name not in FIELDS)
        if unknown:
            problems.append(
                RecordProblem(
                    position, question, unknown[0], f"未知字段，可用：{', '.join(FIELDS)}"
                )
            )
            continue
        key = clean_text(question or "")
        if key and key in seen:
            problems.append(
                RecordProblem(position, question, "question", f"与第{seen[key]}条记录的问题重复")
            )
            continue
        seen[key] = position
        target = existing.get(key) if key else None
        given = {name: value for name, value in record.items() if name != "status"}
        content = {**_current_content(db, target), **given} if target is not None else given
        if target is not None and (draft := get_draft(db, target)) and draft.state == "in_review":
            problems.append(
                RecordProblem(position, question, "question", f"条目 {target} 的修改正在审核中")
            )
            continue
        try:
            draft_entry(db, content)
        except ReviewError as error:
            problems.append(RecordProblem(position, question, "record", str(error)))
            continue
        plan.append((target, content))
    if problems:
        raise InvalidRecordsError(problems)
    return plan


def import_as_drafts(db: Database, user: User, records: list[Any]) -> DraftImport:
    """Save every record as a draft (see the module docstring); all or nothing.

    Raises :class:`InvalidRecordsError` listing every bad record, or :class:`ReviewError`
    when ``user`` may not edit; nothing is written then.
    """
    if not user.can("edit"):
        raise ReviewError(f"账号“{user.name}”不能编辑条目。")
    with write(db):
        plan = _plan(db, records)
        for target, content in plan:
            save_draft(db, user, content, target)
    created = sum(target is None for target, _ in plan)
    return DraftImport(created, len(plan) - created)
