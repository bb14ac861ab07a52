"""Writing an entry (``/admin/entries/new``, ``/admin/entries/<id>/edit``): form, preview, checks.

As the editor types, the reply pane shows the answer exactly as a resident will read it
(settings filled in, citations appended) and its size against WeChat's 2048 bytes:
``static/entry_preview.js`` asks :func:`live_preview` for it, the same function that
renders residents' replies. The form's buttons: 预览并检查 renders the same on the server
with the checks' findings (they need the server's index), without saving; 保存草稿 saves;
保存并提交审核 saves and submits. Without script the buttons alone do everything.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response

from bot.api import json_object
from console.access import require_permission
from console.entries import entry_or_404
from knowledge.db import get_db
from knowledge.entries import Entry
from knowledge.entry_checks import MAX_REPLY_BYTES, SEVERITY_NAMES, CheckReport, check_entry
from knowledge.matching.live_index import current_index
from knowledge.matching.matcher import MatchIndex
from knowledge.preview import preview_reply, render_entry, reply_bytes
from knowledge.review import (
    CONTENT_FIELDS,
    ReviewError,
    draft_entry,
    get_draft,
    http_status,
    save_draft,
    submit_draft,
)
from knowledge.settings import SETTINGS, get_settings
from knowledge.topic_store import known_topics

bp = Blueprint("entry_form", __name__, url_prefix="/entries")
log = logging.getLogger(__name__)

ACTIONS = ("preview", "save", "submit")
_LINES = ("alternates", "law_refs", "keywords")


def _form_record() -> dict[str, Any]:
    """The entry as the form holds it: one alternate, reference or keyword per line."""
    record: dict[str, Any] = {}
    for name in CONTENT_FIELDS:
        value = request.form.get(name, "")
        if name in _LINES:
            record[name] = [line.strip() for line in value.splitlines() if line.strip()]
        else:
            record[name] = value.strip()
    return record


def _record_of(entry: Entry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in CONTENT_FIELDS}


def _page(
    record: dict[str, Any],
    entry_id: int | None,
    revision: int,
    status: int = 200,
    error: str = "",
    report: CheckReport | None = None,
    preview: str | None = None,
) -> tuple[str, int]:
    db = get_db()
    draft = get_draft(db, entry_id) if entry_id is not None else None
    return (
        render_template(
            "console/entry_form.html",
            record=record,
            entry_id=entry_id,
            revision=revision,
            draft=draft,
            error=error,
            report=report,
            preview=preview,
            preview_bytes=reply_bytes(preview) if preview is not None else 0,
            max_bytes=MAX_REPLY_BYTES,
            severity_names=SEVERITY_NAMES,
            topics=known_topics(db),
            placeholders=list(SETTINGS),
        ),
        status,
    )


def _live() -> MatchIndex:
    return current_index(get_db(), str(current_app.config["DATABASE"]))


def _preview(record: dict[str, Any], entry_id: int | None, revision: int) -> tuple[str, int]:
    """The form again with the reply as residents read it and the checks' findings."""
    db = get_db()
    try:
        entry = draft_entry(db, record)
    except ReviewError as error:
        log.info("console: preview of entry %s refused: %s", entry_id, error)
        return _page(record, entry_id, revision, 400, error=str(error))
    entry = replace(entry, id=entry_id)
    report = check_entry(db, entry, _live())
    return _page(
        record, entry_id, revision, report=report, preview=render_entry(entry, get_settings(db))
    )


def _handle(entry_id: int | None) -> Response | tuple[str, int]:
    record = _form_record()
    action = request.form.get("action", "")
    raw_revision = request.form.get("revision", "0")
    revision = int(raw_revision) if raw_revision.isdigit() else 0
    if action not in ACTIONS:
        log.info("console: entry form with unknown action %r", action[:20])
        return _page(record, entry_id, revision, 400, error="请用表单下方的按钮提交。")
    if action == "preview":
        return _preview(record, entry_id, revision)
    db = get_db()
    try:
        draft = save_draft(db, current_user.account, record, entry_id, revision)
    except ReviewError as error:
        log.info("console: draft of entry %s not saved: %s", entry_id, error)
        return _page(record, entry_id, revision, http_status(error), error=str(error))
    if action == "save":
        flash("草稿已保存。已发布的版本在审核通过前继续回答居民。")
        return redirect(url_for("admin.entries.detail", entry_id=draft.entry_id))
    try:
        submit_draft(db, current_user.account, draft.entry_id, _live())
    except ReviewError as error:
        log.info("console: entry %d not submitted: %s", draft.entry_id, error)
        report = check_entry(db, replace(draft.entry, id=draft.entry_id), _live())
        preview = render_entry(draft.entry, get_settings(db))
        return _page(
            record,
            draft.entry_id,
            draft.revision,
            http_status(error) if not error.findings else 400,
            error=f"草稿已保存，但没有提交：{error}",
            report=report,
            preview=preview,
        )
    flash("已提交审核：审核人通过后才会发布。")
    return redirect(url_for("admin.entries.detail", entry_id=draft.entry_id))


@bp.route("/new", methods=["GET", "POST"])
@require_permission("edit")
def new() -> Response | tuple[str, int]:
    """A blank form for a new entry; POST previews, saves or submits it."""
    if request.method == "POST":
        return _handle(None)
    blank = {name: [] if name in _LINES else "" for name in CONTENT_FIELDS}
    return _page(blank, None, 0)


@bp.route("/<int:entry_id>/edit", methods=["GET", "POST"])
@require_permission("edit")
def edit(entry_id: int) -> Response | tuple[str, int]:
    """The entry's draft (or the entry itself) in the form; POST previews, saves or submits."""
    entry = entry_or_404(entry_id)
    if request.method == "POST":
        return _handle(entry_id)
    draft = get_draft(get_db(), entry_id)
    if draft is not None:
        return _page(draft.record, entry_id, draft.revision)
    return _page(_record_of(entry), entry_id, 0)


#: Longest answer the live preview renders (the form's own limit is 3000 characters).
MAX_PREVIEW_CHARS = 5000


@bp.post("/preview.json")
@require_permission("edit")
def live_preview() -> Response:
    """``{"answer": …, "law_refs": [...]}`` → the reply as residents read it, and its bytes."""
    payload = json_object("console live preview", '{"answer": "…", "law_refs": []}')
    answer, refs = payload.get("answer", ""), payload.get("law_refs", [])
    if (
        not isinstance(answer, str)
        or len(answer) > MAX_PREVIEW_CHARS
        or not isinstance(refs, list)
        or len(refs) > 50
        or not all(isinstance(ref, str) and len(ref) <= 100 for ref in refs)
    ):
        log.info("console: live preview refused: malformed fields")
        abort(400, description="answer 应为不超过5000字的文字，law_refs 应为文字列表")
    text, problem = preview_reply(
        answer, [r.strip() for r in refs if r.strip()], get_settings(get_db())
    )
    return jsonify(reply=text, bytes=reply_bytes(text), max=MAX_REPLY_BYTES, problem=problem)
