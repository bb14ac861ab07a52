"""The knowledge entries (``/admin/entries``): search and filters, one entry with its history.

Writing and the review have their own views (:mod:`console.entry_form`,
:mod:`console.review`); this area shows entries and restores old versions.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from console.access import require_permission
from console.paging import filter_arg, requested_page
from knowledge.db import get_db
from knowledge.entries import STATUS_NAMES, Entry
from knowledge.entry_search import MAX_SEARCH_CHARS, find_entries
from knowledge.history import history
from knowledge.laws import article_for_ref
from knowledge.preview import render_entry
from knowledge.review import ReviewError, get_draft, http_status, restore_version, review_status
from knowledge.settings import get_settings
from knowledge.store import entry_versions, get_entry
from knowledge.topic_store import known_topics

bp = Blueprint("entries", __name__, url_prefix="/entries")
log = logging.getLogger(__name__)

PAGE_SIZE = 30
_MAX_SQLITE_INTEGER = 2**63 - 1


def entry_or_404(entry_id: int) -> Entry:
    """The entry ``entry_id``, or a 404 page naming it."""
    found = get_entry(get_db(), entry_id) if entry_id <= _MAX_SQLITE_INTEGER else None
    if found is None:
        log.info("console: no entry %d", entry_id)
        abort(404, description=f"没有编号为 {entry_id} 的条目")
    return found


@bp.get("")
@require_permission("edit")
def listing() -> str:
    """Entries matching ``?q=`` (question, alternates, answer), ``?status=``, ``?topic=``; paged."""
    db = get_db()
    topics = known_topics(db)
    status = filter_arg("status", STATUS_NAMES, "状态")
    topic = filter_arg("topic", topics, "主题")
    query = request.args.get("q", "").strip()[:MAX_SEARCH_CHARS]
    total = find_entries(db, query, status, topic, limit=0)[1]
    pager = requested_page(total, PAGE_SIZE)
    shown, _ = find_entries(db, query, status, topic, PAGE_SIZE, pager.offset)
    return render_template(
        "console/entries.html",
        listed=shown,
        total=total,
        pager=pager,
        query=query,
        status=status,
        topic=topic,
        statuses=STATUS_NAMES,
        topics=topics,
    )


@bp.get("/<int:entry_id>")
@require_permission("edit")
def detail(entry_id: int) -> str:
    """One entry as residents read it, its pending draft, law texts and history with diffs."""
    db = get_db()
    found = entry_or_404(entry_id)
    draft = get_draft(db, entry_id)
    topics = known_topics(db)
    return render_template(
        "console/entry.html",
        entry=found,
        draft=draft,
        shown_status=review_status(found, draft),
        answer=render_entry(found, get_settings(db)),
        articles=[(ref, article_for_ref(ref)) for ref in found.law_refs],
        versions=history(entry_versions(db, entry_id), topics),
        topics=topics,
    )


@bp.post("/<int:entry_id>/restore")
@require_permission("edit")
def restore(entry_id: int) -> Response:
    """Make the version in the form's ``version`` the entry's draft again (409 if refused)."""
    entry_or_404(entry_id)
    raw = request.form.get("version", "")
    if not raw.isdigit():
        log.info("console: restore of entry %d with bad version %r", entry_id, raw[:20])
        abort(400, description="版本号应为正整数")
    try:
        restore_version(get_db(), current_user.account, entry_id, int(raw))
    except ReviewError as error:
        log.info("console: restore of entry %d refused: %s", entry_id, error)
        abort(http_status(error), description=str(error))
    flash(f"已把第{raw}版恢复为草稿：检查无误后请提交审核。")
    return redirect(url_for("admin.entry_form.edit", entry_id=entry_id))
