"""The legality review (``/admin/review``): the queue, the reviewer's page, approve or return.

The reviewer reads the change as residents will read it, beside the text of every cited
article, the checks' findings and what changed since the published version. Only
accounts with "review" see these pages; nobody approves their own change (the
workflow refuses it with a message shown here as a 403 page).
"""

from __future__ import annotations

import logging
from typing import NoReturn

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from console.access import require_permission
from console.entries import entry_or_404
from knowledge.db import get_db
from knowledge.entry_checks import SEVERITY_NAMES, check_entry
from knowledge.history import version_diff
from knowledge.laws import article_for_ref
from knowledge.matching.live_index import current_index
from knowledge.preview import render_entry
from knowledge.review import (
    ReviewError,
    approve_draft,
    archive_entry,
    drafts_in_review,
    get_draft,
    http_status,
    return_draft,
)
from knowledge.settings import get_settings
from knowledge.store import entry_versions
from knowledge.topic_store import known_topics

bp = Blueprint("review", __name__, url_prefix="/review")
log = logging.getLogger(__name__)


@bp.get("")
@require_permission("review")
def queue() -> str:
    """Every change waiting for review, the longest-waiting first."""
    db = get_db()
    return render_template("console/review_queue.html", drafts=drafts_in_review(db))


@bp.get("/<int:entry_id>")
@require_permission("review")
def decide(entry_id: int) -> str:
    """The reviewer's page for the entry's change in review (404 when there is none)."""
    db = get_db()
    entry = entry_or_404(entry_id)
    draft = get_draft(db, entry_id)
    if draft is None or draft.state != "in_review":
        abort(404, description=f"条目 {entry_id} 没有等待审核的修改")
    published = entry_versions(db, entry_id)[-1] if entry.status == "published" else None
    report = check_entry(db, draft.entry, current_index(db, str(current_app.config["DATABASE"])))
    topics = known_topics(db)
    return render_template(
        "console/review.html",
        entry=entry,
        draft=draft,
        reply=render_entry(draft.entry, get_settings(db)),
        articles=[(ref, article_for_ref(ref)) for ref in draft.entry.law_refs],
        report=report,
        severity_names=SEVERITY_NAMES,
        diff=version_diff(published, draft.record, topics),
        own=current_user.name in draft.authors or current_user.name == draft.submitted_by,
        topics=topics,
    )


def _refused(entry_id: int, action: str, error: ReviewError) -> NoReturn:
    log.warning(
        "console: %s of entry %d by %s refused: %s", action, entry_id, current_user.name, error
    )
    abort(http_status(error), description=str(error))


@bp.post("/<int:entry_id>/approve")
@require_permission("review")
def approve(entry_id: int) -> Response:
    """Publish the change the reviewer read (the form's ``revision``)."""
    entry_or_404(entry_id)
    raw = request.form.get("revision", "")
    revision = int(raw) if raw.isdigit() else None
    try:
        published = approve_draft(get_db(), current_user.account, entry_id, revision)
    except ReviewError as error:
        _refused(entry_id, "approve", error)
    flash(f"已审核通过并发布第{published.version}版：居民下一条消息起就会收到。")
    return redirect(url_for("admin.entries.detail", entry_id=entry_id))


@bp.post("/<int:entry_id>/return")
@require_permission("review")
def send_back(entry_id: int) -> Response:
    """Return the change to its authors with the form's ``comment`` (400 without one)."""
    entry_or_404(entry_id)
    try:
        return_draft(get_db(), current_user.account, entry_id, request.form.get("comment", ""))
    except ReviewError as error:
        _refused(entry_id, "return", error)
    flash("已退回给编辑，并附上了您的意见。")
    return redirect(url_for("admin.review.queue"))


@bp.post("/<int:entry_id>/archive")
@require_permission("review")
def archive(entry_id: int) -> Response:
    """Take the entry off the air; its history stays and can be restored."""
    entry_or_404(entry_id)
    try:
        archive_entry(get_db(), current_user.account, entry_id)
    except ReviewError as error:
        _refused(entry_id, "archive", error)
    flash("已归档：居民不再收到这一条。")
    return redirect(url_for("admin.entries.detail", entry_id=entry_id))
