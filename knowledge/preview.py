"""An entry's answer exactly as residents read it: the web chat, WeChat and the staff preview."""

from __future__ import annotations

from knowledge.entries import Entry, EntryError, parse_law_ref
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


def preview_reply(answer: str, law_refs: list[str], settings: dict[str, str]) -> tuple[str, str]:
    """The reply a draft answer gives as typed, and a problem with its references ("" if none).

    For the editor's live preview: references that do not read as 《law》第N条 are left out
    of the citation line and named in the problem, so the preview never fails as one types.
    """
    readable, unreadable = [], []
    for ref in law_refs:
        try:
            readable.append(parse_law_ref(ref))
        except EntryError:
            unreadable.append(ref)
    text = render_placeholders(answer, settings).strip()
    if readable:
        text += f"\n\n法律依据：{format_citation(readable)}\n（回复“原文”查看法条原文）"
    problem = f"看不懂的法律依据（没有算进预览）：{'、'.join(unreadable)}" if unreadable else ""
    return text, problem
