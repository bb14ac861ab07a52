"""An entry's answer exactly as residents read it: the web chat, WeChat and the staff preview."""

from __future__ import annotations

from knowledge.entries import Entry, parse_law_ref
from knowledge.laws import format_citation
from knowledge.settings import render_placeholders


def render_entry(entry: Entry, settings: dict[str, str]) -> str:
    """An entry's answer as residents read it: placeholders filled, the law cited."""
    text = render_placeholders(entry.answer, settings).strip()
    if entry.law_refs:
        citation = format_citation([parse_law_ref(ref) for ref in entry.law_refs])
        text += f"\n\n法律依据：{citation}\n（回复“原文”查看法条原文）"
    return text


def reply_bytes(text: str) -> int:
    """How many bytes a reply takes in WeChat's limit (UTF-8)."""
    return len(text.encode("utf-8"))
