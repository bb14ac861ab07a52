"""An entry's history as staff read it: each version beside the one before, as a diff."""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from typing import Any

from knowledge.entries import STATUS_NAMES
from knowledge.topics import TOPICS, topic_name

_LABELS = {
    "question": "标准问题",
    "alternates": "其他问法",
    "answer": "答案",
    "law_refs": "法律依据",
    "keywords": "关键词",
    "topic": "主题",
    "status": "状态",
}
_LIST_FIELDS = ("alternates", "law_refs", "keywords")
_SENTENCE_END = re.compile(r"(?<=[。！？；\n])")


@dataclass(frozen=True)
class DiffLine:
    """One line of a diff: "+" added, "-" removed, " " unchanged, "@" a field's heading."""

    tag: str
    text: str


def _items(value: Any, name: str, topics: dict[str, str]) -> list[str]:
    if name in _LIST_FIELDS:
        items = json.loads(value or "[]") if isinstance(value, str) else list(value or [])
        return [str(item) for item in items]
    if name == "status":
        return [STATUS_NAMES.get(value, str(value))] if value else []
    if name == "topic":
        return [topic_name(value, topics)] if value else []
    # Sentence by sentence: an answer is often one long paragraph.
    return [part.strip() for part in _SENTENCE_END.split(str(value or "")) if part.strip()]


def content_lines(
    version: dict[str, Any], topics: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """A stored version (or draft record) as labelled lines, field by field."""
    known = topics if topics is not None else TOPICS
    return {name: _items(version.get(name), name, known) for name in _LABELS if name in version}


def version_diff(
    before: dict[str, Any] | None, after: dict[str, Any], topics: dict[str, str] | None = None
) -> list[DiffLine]:
    """What changed from ``before`` to ``after`` (stored rows or records), field by field.

    Unchanged fields are left out; with ``before`` None (a first version) every field is
    shown as it is, unmarked.
    """
    new = content_lines(after, topics)
    if before is None:
        return [
            line
            for name, items in new.items()
            if items
            for line in [DiffLine("@", _LABELS[name]), *(DiffLine(" ", item) for item in items)]
        ]
    old = content_lines(before, topics)
    lines: list[DiffLine] = []
    for name in new:
        if old.get(name) == new[name]:
            continue
        lines.append(DiffLine("@", _LABELS[name]))
        for line in difflib.ndiff(old.get(name, []), new[name]):
            if line[:1] in "+- ":
                lines.append(DiffLine(line[:1], line[2:]))
    return lines


def history(
    versions: list[dict[str, Any]], topics: dict[str, str] | None = None
) -> list[tuple[dict[str, Any], list[DiffLine]]]:
    """Every version, newest first, each with its diff from the version before it."""
    pairs = []
    for position, version in enumerate(versions):
        previous = versions[position - 1] if position else None
        pairs.append((version, version_diff(previous, version, topics)))
    return list(reversed(pairs))
