"""Cut a long reply into pages that fit WeChat's text limit, at sentence boundaries."""

from __future__ import annotations

import re

#: WeChat rejects text messages over 2048 bytes; keep room for the "更多" hint.
MAX_REPLY_BYTES = 2048
MORE_HINT = "\n\n（内容较长，回复“更多”查看下文）"
_SENTENCE_END = re.compile(r"(?<=[。！？；\n!?;])")


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _pieces(text: str, limit: int) -> list[str]:
    """Sentences (and, for a sentence over ``limit``, slices of it) in order."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        while _size(sentence) > limit:
            cut = limit // 4  # a CJK character is at most 4 bytes in UTF-8
            while _size(sentence[: cut + 1]) <= limit:
                cut += 1
            pieces.append(sentence[:cut])
            sentence = sentence[cut:]
        if sentence:
            pieces.append(sentence)
    return pieces


def paginate(text: str, limit: int = MAX_REPLY_BYTES) -> list[str]:
    """Pages of ``text``, each within ``limit`` bytes including the "更多" hint on all but the last."""
    if _size(text) <= limit:
        return [text]
    budget = limit - _size(MORE_HINT)
    pages: list[str] = []
    current = ""
    for piece in _pieces(text, budget):
        if current and _size(current + piece) > budget:
            pages.append(current.rstrip() + MORE_HINT)
            current = piece.lstrip("\n")
        else:
            current += piece
    pages.append(current.rstrip())
    return pages
