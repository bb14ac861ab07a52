"""What a Q&A entry is, and how a record from staff or a file is checked before it is stored."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from knowledge.law_registry import LAWS, law_named
from knowledge.laws import LawRef, find_article, last_article_number, parse_ref
from knowledge.topics import TOPICS

STATUSES = ("draft", "in_review", "published", "archived")
#: The statuses as staff read them.
STATUS_NAMES = {"draft": "草稿", "in_review": "待审核", "published": "已发布", "archived": "已归档"}
_REF_SHAPE = re.compile(r"^(?P<law>.+?)第\d+条(?:之[一二三四五六七八九十]+)?$")
MAX_QUESTION_CHARS = 200
MAX_ANSWER_CHARS = 3000


@dataclass
class Entry:
    """One Q&A entry as residents see it once it is published."""

    id: int | None
    topic: str
    question: str
    answer: str
    alternates: list[str] = field(default_factory=list)
    law_refs: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    status: str = "draft"
    version: int = 1
    updated_by: str | None = None
    updated_at: str | None = None

    def phrasings(self) -> list[str]:
        """The standard question followed by every alternate phrasing."""
        return [self.question, *self.alternates]


class EntryError(ValueError):
    """A record that cannot become an entry; ``field`` names what is wrong."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def _string_list(value: Any, field_name: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        # CSV cells and form fields hold one item per line.
        value = value.splitlines()
    if not isinstance(value, list) or not all(
        isinstance(item, str | int) and not isinstance(item, bool) for item in value
    ):
        raise EntryError(field_name, "应为文字列表")
    # YAML reads an unquoted 96110 as a number; it is still the text residents type.
    return [str(item).strip() for item in value if str(item).strip()]


def _required_text(record: dict[str, Any], field_name: str, limit: int) -> str:
    value = record.get(field_name)
    if not isinstance(value, str) or not value.strip():
        raise EntryError(field_name, "不能为空")
    value = value.strip()
    if len(value) > limit:
        raise EntryError(field_name, f"太长（{len(value)}字，最多{limit}字）")
    return value


def entry_from_record(
    record: dict[str, Any], default_status: str = "draft", topics: Mapping[str, str] = TOPICS
) -> Entry:
    """Check a record (from a file, a form or the API) and turn it into an :class:`Entry`.

    ``topics`` are the topic keys allowed (the database's, where staff may have added
    some; the shipped eight by default). Raises :class:`EntryError` naming the first
    field that is wrong.
    """
    if not isinstance(record, dict):
        raise EntryError("record", "应为一个对象（键值对）")
    topic = record.get("topic")
    if topic not in topics:
        raise EntryError(
            "topic",
            f"未知主题 {topic!r}，可选：{', '.join(topics)}（新主题请先添加：flask kb topics add）",
        )
    status = record.get("status") or default_status
    if status not in STATUSES:
        raise EntryError("status", f"未知状态 {status!r}，可选：{', '.join(STATUSES)}")
    law_refs = _string_list(record.get("law_refs"), "law_refs")
    for ref in law_refs:
        parsed = parse_law_ref(ref)
        if find_article(*parsed) is None:
            count = last_article_number(parsed.law)
            raise EntryError("law_refs", f"{ref} 不存在（《{parsed.law}》共{count}条）")
    return Entry(
        id=record.get("id") if isinstance(record.get("id"), int) else None,
        topic=topic,
        question=_required_text(record, "question", MAX_QUESTION_CHARS),
        answer=_required_text(record, "answer", MAX_ANSWER_CHARS),
        alternates=_string_list(record.get("alternates"), "alternates"),
        law_refs=law_refs,
        keywords=_string_list(record.get("keywords"), "keywords"),
        status=status,
    )


def parse_law_ref(ref: str) -> LawRef:
    """Split "民法典第1079条" into ("民法典", 1079, 0), "刑法第276条之一" into ("刑法", 276, 1).

    Raises :class:`EntryError` for a ref that is not shaped like one, or names a law that is
    not shipped (knowledge/laws/index.tsv lists the short names).
    """
    parsed = parse_ref(ref)
    if parsed is not None:
        return parsed
    shape = _REF_SHAPE.match(ref.strip())
    if shape is None or shape["law"] in LAWS:
        raise EntryError("law_refs", f"格式应如“民法典第1079条”“刑法第276条之一”：{ref!r}")
    short = law_named(shape["law"])
    if short is not None:
        raise EntryError("law_refs", f"{ref}：请用简称“{short}”，如“{short}第1条”")
    raise EntryError(
        "law_refs",
        f"{ref}：“{shape['law']}”不是随附的法律（简称见 knowledge/laws/index.tsv，"
        f"共{len(LAWS)}部）",
    )
