"""Who wrote or changed a campaign, and each version of its content, for the four-eyes rule.

Everyone who writes or changes what a mass send puts in front of every follower — title,
text, article body, digest, cover, audience — and whoever submits it is a *contributor*;
no contributor may approve it. Each change of content is kept as a version, so the
reviewer sees what changed since the last review as a diff (like an entry's history).
The functions here run inside the caller's write transaction.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sqlite_utils import Database

from knowledge.history import DiffLine
from knowledge.store import now

#: The fields that make up what is sent, as staff read their names.
CONTENT_LABELS = {
    "title": "标题",
    "text": "群发文字",
    "digest": "摘要",
    "body": "图文正文",
    "cover_path": "封面图片",
    "tag_id": "发给",
}
CONTENT_FIELDS = tuple(CONTENT_LABELS)
#: How each kind of contribution reads on the campaign's page.
CONTRIBUTIONS = {"wrote": "编写", "changed": "修改", "submitted": "提交审核"}
_SENTENCE_END = re.compile(r"(?<=[。！？；\n])")


@dataclass(frozen=True)
class CampaignVersion:
    """One version of a campaign's content: who made it, when, and the content."""

    id: int
    campaign_id: int
    by: str
    at: str
    content: dict[str, Any]


def content_of(row: dict[str, Any]) -> dict[str, Any]:
    """The content fields of a campaign row (or of a version)."""
    return {name: row.get(name) for name in CONTENT_FIELDS}


def record_contributor(db: Database, campaign_id: int, name: str, part: str) -> None:
    """Remember that ``name`` took part (``part``: wrote, changed, submitted) in the campaign."""
    db.execute(
        "INSERT OR IGNORE INTO campaign_contributors (campaign_id, name, part, at) "
        "VALUES (?, ?, ?, ?)",
        [campaign_id, name, part, now()],
    )


def contributors(db: Database, campaign_id: int) -> dict[str, list[str]]:
    """Each contributor's name with what they did (编写, 修改, 提交审核), in order of first part."""
    found: dict[str, list[str]] = {}
    rows = db.execute(
        "SELECT name, part FROM campaign_contributors WHERE campaign_id = ? ORDER BY at, rowid",
        [campaign_id],
    )
    for name, part in rows:
        found.setdefault(name, []).append(CONTRIBUTIONS.get(part, part))
    return found


def record_version(db: Database, campaign_id: int, by: str, content: dict[str, Any]) -> int:
    """Keep ``content`` as the campaign's newest version, made by ``by``; its id."""
    row = {"campaign_id": campaign_id, "by": by, "at": now(), **content_of(content)}
    return int(db["campaign_versions"].insert(row).last_pk)


def versions(db: Database, campaign_id: int) -> list[CampaignVersion]:
    """The campaign's versions, oldest first."""
    rows = db["campaign_versions"].rows_where("campaign_id = ?", [campaign_id], order_by="id")
    return [
        CampaignVersion(row["id"], row["campaign_id"], row["by"], row["at"], content_of(row))
        for row in rows
    ]


def latest_version_id(db: Database, campaign_id: int) -> int | None:
    """The id of the campaign's newest version (None before any is kept)."""
    row = db.execute(
        "SELECT max(id) FROM campaign_versions WHERE campaign_id = ?", [campaign_id]
    ).fetchone()
    return row[0] if row else None


def _lines(name: str, value: Any) -> list[str]:
    if name == "tag_id":
        return ["全部关注者" if value is None else f"标签 {value}"]
    return [part.strip() for part in _SENTENCE_END.split(str(value or "")) if part.strip()]


def content_diff(before: dict[str, Any], after: dict[str, Any]) -> list[DiffLine]:
    """What changed from ``before`` to ``after``, field by field; unchanged fields left out."""
    lines: list[DiffLine] = []
    for name, label in CONTENT_LABELS.items():
        old, new = _lines(name, before.get(name)), _lines(name, after.get(name))
        if old == new:
            continue
        lines.append(DiffLine("@", label))
        lines.extend(
            DiffLine(line[:1], line[2:]) for line in difflib.ndiff(old, new) if line[:1] in "+- "
        )
    return lines


def history(db: Database, campaign_id: int) -> list[tuple[CampaignVersion, list[DiffLine]]]:
    """Every version after the first, newest first, each with its diff from the one before."""
    found = versions(db, campaign_id)
    pairs = [
        (version, content_diff(previous.content, version.content))
        for previous, version in pairwise(found)
    ]
    return list(reversed(pairs))


def changes_since_review(
    db: Database, campaign_id: int, reviewed_version: int | None
) -> list[DiffLine]:
    """What changed since the version a reviewer last decided on (empty if nothing did)."""
    if not reviewed_version:
        return []
    found = {version.id: version for version in versions(db, campaign_id)}
    if reviewed_version not in found:
        return []
    newest = found[max(found)]
    return content_diff(found[reviewed_version].content, newest.content)
