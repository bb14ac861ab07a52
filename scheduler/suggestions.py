"""A suggested campaign text for a publicity day, from the published entries of its topics.

Only approved (published) knowledge is quoted, with its placeholders filled from the
site settings, so the suggestion says nothing the legality review has not seen; staff
edit it before submitting. It fits WeChat's 300-character mass-send limit.
"""

from __future__ import annotations

from sqlite_utils import Database

from knowledge.entries import Entry
from knowledge.settings import get_settings, render_placeholders
from knowledge.store import published_entries
from scheduler.calendar import PublicityDay
from scheduler.campaigns import MAX_TEXT_CHARS

CLOSING = "有法律问题，可直接给本公众号发消息提问。"


def _first_sentences(text: str, room: int) -> str:
    """As many whole sentences of ``text`` as fit in ``room`` characters (at least one cut)."""
    kept = ""
    for sentence in text.replace("\n", "").split("。"):
        if not sentence:
            continue
        candidate = f"{kept}{sentence}。"
        if len(candidate) > room:
            break
        kept = candidate
    return kept or text[: max(0, room - 1)] + "…"


def suggested_text(db: Database, day: PublicityDay) -> str:
    """A draft text for ``day``: its name and laws, then one published entry of its topics."""
    laws = "、".join(f"《{law}》" for law in day.laws)
    opening = f"【{day.name}】" + (f"今天我们一起学习{laws}。" if laws else "")
    entries = [e for e in published_entries(db) if e.topic in day.topics]
    if not entries:
        return opening + CLOSING
    words = [*day.hints, *day.laws]

    def fit(entry: Entry) -> int:
        haystack = entry.question + entry.answer + "".join(entry.law_refs)
        return sum(haystack.count(word) for word in words)

    entry = max(entries, key=fit)  # the first of the best: stable for the same content
    answer = render_placeholders(entry.answer, get_settings(db))
    head = f"{opening}\n问：{entry.question}\n答："
    room = MAX_TEXT_CHARS - len(head) - len(CLOSING) - 1
    return f"{head}{_first_sentences(answer, room)}\n{CLOSING}"
