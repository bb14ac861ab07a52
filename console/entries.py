"""The knowledge entries (``/admin/entries``): the list with filters, and one entry."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, render_template

from console.access import require_permission
from console.paging import filter_arg
from knowledge.db import get_db
from knowledge.entries import STATUS_NAMES
from knowledge.laws import article_for_ref
from knowledge.settings import get_settings, render_placeholders
from knowledge.store import entry_versions, get_entry, list_entries
from knowledge.topics import TOPICS

bp = Blueprint("entries", __name__, url_prefix="/entries")
log = logging.getLogger(__name__)

_MAX_SQLITE_INTEGER = 2**63 - 1


@bp.get("")
@require_permission("edit")
def listing() -> str:
    """All entries, optionally only one ``?status=`` and/or ``?topic=`` (400 if unknown)."""
    status = filter_arg("status", STATUS_NAMES, "状态")
    topic = filter_arg("topic", TOPICS, "主题")
    shown = [e for e in list_entries(get_db(), status) if topic is None or e.topic == topic]
    return render_template(
        "console/entries.html",
        entries=shown,
        status=status,
        topic=topic,
        statuses=STATUS_NAMES,
        topics=TOPICS,
    )


@bp.get("/<int:entry_id>")
@require_permission("edit")
def detail(entry_id: int) -> str:
    """One entry as residents read it, its law texts, phrasings and every version; 404 if none."""
    db = get_db()
    found = get_entry(db, entry_id) if entry_id <= _MAX_SQLITE_INTEGER else None
    if found is None:
        log.info("console: no entry %d", entry_id)
        abort(404, description=f"没有编号为 {entry_id} 的条目")
    return render_template(
        "console/entry.html",
        entry=found,
        answer=render_placeholders(found.answer, get_settings(db)),
        articles=[(ref, article_for_ref(ref)) for ref in found.law_refs],
        versions=list(reversed(entry_versions(db, entry_id))),
    )
