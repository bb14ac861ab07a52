"""Lists across console pages: ``?page=N`` paging and ``?status=``-style filters, checked."""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

from flask import abort, request, url_for

log = logging.getLogger(__name__)

_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


@dataclass(frozen=True)
class Pager:
    """Which page of a list is shown: ``number`` of ``pages``, ``size`` items each."""

    number: int
    pages: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        """How many items come before this page."""
        return (self.number - 1) * self.size

    def url(self, number: int) -> str:
        """This page's URL (filters kept) at page ``number``."""
        return url_for(request.endpoint or "", **{**request.args.to_dict(), "page": number})


def requested_page(total: int, size: int) -> Pager:
    """The page ``?page=N`` asks for, clamped to the last; 400 unless N is a positive integer."""
    raw = request.args.get("page", "1")
    if not _PAGE_NUMBER.fullmatch(raw):
        log.info("console %s: bad page number %r", request.path, raw[:50])
        abort(400, description="页码应为正整数，例如 ?page=2")
    pages = max(1, math.ceil(total / size))
    return Pager(min(int(raw), pages), pages, size, total)


def filter_arg(name: str, allowed: dict[str, str], label: str) -> str | None:
    """The ``?name=`` filter if it is one of ``allowed`` (None when empty); 400 otherwise."""
    value = request.args.get(name, "")
    if not value:
        return None
    if value not in allowed:
        log.info("console %s: unknown %s %r", request.path, name, value[:50])
        options = "、".join(f"{key}（{shown}）" for key, shown in allowed.items())
        abort(400, description=f"没有这个{label}：{value[:50]}。可选的{label}：{options}")
    return value
