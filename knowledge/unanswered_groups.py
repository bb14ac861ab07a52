"""The unanswered queue grouped by similar text, and what staff do with a group.

Texts are normalised as the matcher sees them (``clean_texts``: simplified, no punctuation
or filler), identical ones fold together, and then each distinct text joins the first
larger group whose wording is at least :data:`SIMILAR` alike (rapidfuzz ``ratio``). Only
the latest :data:`GROUPED_TURNS` open turns are grouped, so the cost stays bounded.

A handled group leaves the queue: its turns point at a ``queue_handlings`` row saying who,
when and how (dismissed, added as an alternate, made a new entry), and the audit log says
it too. Adding an alternate and making a new entry go through the review workflow
(``knowledge.review``): they save a draft, which answers residents once a reviewer
approves it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process
from sqlite_utils import Database

from knowledge.audit import record_audit
from knowledge.db import write
from knowledge.entries import MAX_QUESTION_CHARS, Entry
from knowledge.entry_checks import Finding, check_entry
from knowledge.matching.matcher import MatchIndex
from knowledge.matching.normalize import clean_texts
from knowledge.review import CONTENT_FIELDS, get_draft, save_draft
from knowledge.store import get_entry, now
from knowledge.unanswered import OPEN_QUEUE
from knowledge.users import User

#: How alike (0–100, rapidfuzz ratio of the normalised texts) two questions are to group.
SIMILAR = 75
#: How many of the latest open turns are grouped at most.
GROUPED_TURNS = 1000
#: Most turns one action may handle.
MAX_TURNS_PER_ACTION = 5000
#: handling action → what staff read it as.
HANDLING_NAMES = {
    "dismiss": "忽略",
    "add_alternate": "加为条目的另一种问法",
    "new_entry": "新建条目",
}


class QueueError(ValueError):
    """An action on the unanswered queue that cannot be done; the message is for staff."""


@dataclass
class UnansweredGroup:
    """Questions residents asked in alike words, and the entries closest to them."""

    text: str
    wordings: list[str]
    turn_ids: list[int] = field(default_factory=list)
    last_at: str = ""
    closest: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many times residents asked it."""
        return len(self.turn_ids)


def _open_turns(db: Database, limit: int) -> list[dict[str, Any]]:
    return list(
        db.query(
            f"SELECT id, text, at, candidates FROM turns WHERE {OPEN_QUEUE} "
            "ORDER BY id DESC LIMIT ?",
            [limit],
        )
    )


def _closest(turns: list[dict[str, Any]], limit: int = 3) -> list[dict[str, Any]]:
    """The entries that came closest to any of ``turns``, each with its best score."""
    best: dict[int, dict[str, Any]] = {}
    for turn in turns:
        for candidate in json.loads(turn["candidates"] or "[]"):
            known = best.get(candidate["entry_id"])
            if known is None or candidate["score"] > known["score"]:
                best[candidate["entry_id"]] = candidate
    return sorted(best.values(), key=lambda c: -c["score"])[:limit]


def _group(turns: list[dict[str, Any]]) -> UnansweredGroup:
    """One group of ``turns``, named by its commonest wording."""
    wordings = [text for text, _ in Counter(t["text"] for t in turns).most_common()]
    return UnansweredGroup(
        text=wordings[0],
        wordings=wordings,
        turn_ids=sorted((t["id"] for t in turns), reverse=True),
        last_at=max(t["at"] for t in turns),
        closest=_closest(turns),
    )


def unanswered_groups(db: Database, limit: int = GROUPED_TURNS) -> list[UnansweredGroup]:
    """The open unanswered questions grouped by similar text, most asked first."""
    turns = _open_turns(db, limit)
    if not turns:
        return []
    keys = [
        key or turn["text"]
        for key, turn in zip(clean_texts([t["text"] for t in turns]), turns, strict=True)
    ]
    by_key: dict[str, list[dict[str, Any]]] = {}
    for key, turn in zip(keys, turns, strict=True):
        by_key.setdefault(key, []).append(turn)
    # Larger (then more recent) buckets first, so each group is named by its commonest words.
    ordered = sorted(by_key, key=lambda k: (-len(by_key[k]), -by_key[k][0]["id"]))
    representatives: list[str] = []
    members: list[list[dict[str, Any]]] = []
    for key in ordered:
        found = process.extractOne(key, representatives, scorer=fuzz.ratio, score_cutoff=SIMILAR)
        if found is None:
            representatives.append(key)
            members.append(list(by_key[key]))
        else:
            members[found[2]].extend(by_key[key])
    groups = [_group(group_turns) for group_turns in members]
    groups.sort(key=lambda g: (g.count, g.last_at), reverse=True)
    return groups


def handle_turns(
    db: Database,
    turn_ids: Sequence[int],
    *,
    actor: str,
    action: str,
    entry_id: int | None = None,
    summary: str = "",
) -> int:
    """Take ``turn_ids`` out of the queue as handled by ``actor`` with ``action``; how many.

    Call it inside the write that makes the change (a new alternate, a new entry), so the
    handling and the change stand or fall together. Raises :class:`QueueError` when none of
    the turns is still open (someone else handled them first).
    """
    if action not in HANDLING_NAMES:
        raise ValueError(f"unknown handling {action!r}")
    ids = sorted(set(turn_ids))
    if not ids:
        raise QueueError("没有选中任何问题")
    if len(ids) > MAX_TURNS_PER_ACTION:
        raise QueueError(f"一次最多处理{MAX_TURNS_PER_ACTION}条问题")
    marks = ",".join("?" for _ in ids)
    with write(db):
        handling_id = (
            db["queue_handlings"]
            .insert(
                {
                    "at": now(),
                    "actor": actor,
                    "action": action,
                    "entry_id": entry_id,
                    "summary": summary,
                }
            )
            .last_pk
        )
        handled = db.execute(
            f"UPDATE turns SET handling_id = ? WHERE id IN ({marks}) AND {OPEN_QUEUE}",
            [handling_id, *ids],
        ).rowcount
        if handled == 0:
            raise QueueError("这些问题已经有人处理过了")
        db.execute("UPDATE queue_handlings SET turns = ? WHERE id = ?", [handled, handling_id])
        record_audit(
            db,
            actor,
            f"unanswered.{action}",
            "unanswered",
            handling_id,
            f"{HANDLING_NAMES[action]}：{handled}条问题" + (f"（{summary}）" if summary else ""),
            after={"turns": ids, "entry_id": entry_id},
        )
    return handled


def _require_edit(user: User) -> None:
    if not user.can("edit"):
        raise QueueError("您的账号没有“编辑条目”的权限，不能处理这些问题。")


def dismiss_group(db: Database, turn_ids: Sequence[int], user: User) -> int:
    """Dismiss the questions ``turn_ids`` (nothing to add to the knowledge base); how many."""
    _require_edit(user)
    return handle_turns(db, turn_ids, actor=user.name, action="dismiss")


#: The answer of a draft made from unanswered questions, until an editor writes one.
DRAFT_ANSWER = "（待填写：请根据法律规定写出答案，并填写法律依据。）"
#: Most of a group's other wordings that a new draft takes as its alternates.
DRAFT_ALTERNATES = 5
#: The kinds of check findings about phrasings (``knowledge.entry_checks``).
COLLISION_KINDS = ("collision", "near", "takeover", "blur")


def new_entry_from_group(
    db: Database, group: UnansweredGroup, user: User, topic: str | None = None
) -> int:
    """A new entry's draft asking ``group``'s question (other wordings as alternates); its id.

    The topic is ``topic``, else that of the closest entry, else 法律服务. The group leaves
    the queue in the same write. Raises :class:`QueueError` or ``ReviewError``.
    """
    _require_edit(user)
    if topic is None and group.closest:
        closest = get_entry(db, group.closest[0]["entry_id"])
        topic = closest.topic if closest is not None else None
    question = group.text.strip()[:MAX_QUESTION_CHARS]
    alternates = [w.strip()[:MAX_QUESTION_CHARS] for w in group.wordings[1:]]
    record = {
        "topic": topic or "services",
        "question": question,
        "answer": DRAFT_ANSWER,
        "alternates": [w for w in dict.fromkeys(alternates) if w and w != question][
            :DRAFT_ALTERNATES
        ],
        "law_refs": [],
        "keywords": [],
    }
    with write(db):
        draft = save_draft(db, user, record)
        handle_turns(
            db,
            group.turn_ids,
            actor=user.name,
            action="new_entry",
            entry_id=draft.entry_id,
            summary=f"新条目{draft.entry_id}「{question}」的草稿",
        )
    return draft.entry_id


@dataclass
class AlternateResult:
    """What adding an alternate did: saved to the entry's draft, or stopped by findings."""

    saved: bool
    entry_id: int
    alternate: str
    findings: list[Finding] = field(default_factory=list)


def _with_alternate(db: Database, entry_id: int, alternate: str) -> dict[str, Any]:
    """The content of entry ``entry_id`` (its pending draft if any) with ``alternate`` added."""
    entry = get_entry(db, entry_id)
    if entry is None:
        raise QueueError(f"没有编号为 {entry_id} 的条目")
    draft = get_draft(db, entry_id)
    content = (
        dict(draft.record)
        if draft is not None
        else {name: getattr(entry, name) for name in CONTENT_FIELDS}
    )
    if alternate in (content["question"], *content["alternates"]):
        raise QueueError(f"“{alternate}”已经是条目{entry_id}的问法了")
    return {**content, "alternates": [*content["alternates"], alternate]}


def add_alternate_from_group(
    db: Database,
    group: UnansweredGroup,
    entry_id: int,
    alternate: str,
    user: User,
    live: MatchIndex,
    confirmed: bool = False,
) -> AlternateResult:
    """Add ``alternate`` to entry ``entry_id``'s draft, after the collision check.

    The check (``knowledge.entry_checks``) asks the entry's phrasings, the new one included,
    of an index with the draft in it (``live`` is the index residents get now). When it warns
    and the change is not ``confirmed``, nothing is saved and the findings come back. Once
    saved, the published version keeps answering until a reviewer approves the draft; the
    group leaves the queue in the same write.
    """
    _require_edit(user)
    alternate = alternate.strip()
    if not alternate:
        raise QueueError("请填写要加入的问法")
    if len(alternate) > MAX_QUESTION_CHARS:
        raise QueueError(f"问法太长（{len(alternate)}字，最多{MAX_QUESTION_CHARS}字）")
    record = _with_alternate(db, entry_id, alternate)
    checked = Entry(id=entry_id, status="draft", **record)
    findings = [
        finding
        for finding in check_entry(db, checked, live).findings
        if finding.kind in COLLISION_KINDS
    ]
    if findings and not confirmed:
        return AlternateResult(False, entry_id, alternate, findings)
    with write(db):
        save_draft(db, user, record, entry_id)
        handle_turns(
            db,
            group.turn_ids,
            actor=user.name,
            action="add_alternate",
            entry_id=entry_id,
            summary=f"“{alternate}”加入条目{entry_id}的草稿",
        )
    return AlternateResult(True, entry_id, alternate, findings)


def group_of(db: Database, turn_ids: Sequence[int]) -> UnansweredGroup:
    """The open turns among ``turn_ids`` as one group (what a staff form posted back).

    Raises :class:`QueueError` when none is still open.
    """
    ids = sorted(set(turn_ids))[:MAX_TURNS_PER_ACTION]
    marks = ",".join("?" for _ in ids)
    turns = (
        list(
            db.query(
                f"SELECT id, text, at, candidates FROM turns WHERE id IN ({marks}) AND {OPEN_QUEUE} "
                "ORDER BY id DESC",
                ids,
            )
        )
        if ids
        else []
    )
    if not turns:
        raise QueueError("这些问题已经有人处理过了，或者已不在队列里")
    return _group(turns)
