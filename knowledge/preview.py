"""An entry's answer exactly as residents read it: the web chat, WeChat and the staff preview."""

from __future__ import annotations

from knowledge.entries import Entry, parse_law_ref
from knowledge.settings import render_placeholders


def cite(law_refs: list[str]) -> str:
    """The citation line's text: 《民法典》第1079条、第1080条；《反电信网络诈骗法》第25条."""
    by_law: dict[str, list[str]] = {}
    for ref in law_refs:
        law, number = parse_law_ref(ref)
        by_law.setdefault(law, []).append(f"第{number}条")
    return "；".join(f"《{law}》{'、'.join(numbers)}" for law, numbers in by_law.items())


def render_entry(entry: Entry, settings: dict[str, str]) -> str:
    """An entry's answer as residents read it: placeholders filled, the law cited."""
    text = render_placeholders(entry.answer, settings).strip()
    if entry.law_refs:
        text += f"\n\n法律依据：{cite(entry.law_refs)}\n（回复“原文”查看法条原文）"
    return text


def reply_bytes(text: str) -> int:
    """How many bytes a reply takes in WeChat's limit (UTF-8)."""
    return len(text.encode("utf-8"))
