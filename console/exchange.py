"""Import and export buttons (``/admin/entries/export.*``, ``/admin/entries/import``).

Export writes what ``flask kb export`` writes (CSV for Excel with formula-looking cells
kept as text). Import from the console makes drafts only (:mod:`knowledge.draft_import`).
"""

from __future__ import annotations

import logging
from pathlib import PurePath

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from console.access import require_permission
from knowledge.db import get_db
from knowledge.draft_import import import_as_drafts
from knowledge.entries import STATUSES
from knowledge.exchange import (
    ExchangeError,
    decode_text,
    entry_record,
    file_format,
    format_records,
    parse_records,
)
from knowledge.review import ReviewError
from knowledge.store import list_entries

bp = Blueprint("exchange", __name__, url_prefix="/entries")
log = logging.getLogger(__name__)

MIMETYPES = {"csv": "text/csv", "yaml": "application/yaml", "json": "application/json"}
MAX_UPLOAD_BYTES = 2 * 1024 * 1024


@bp.get("/export.<fmt>")
@require_permission("edit")
def export(fmt: str) -> Response:
    """Every entry (or ``?status=``) as a CSV, YAML or JSON download."""
    if fmt not in MIMETYPES:
        abort(404, description=f"不支持导出为 .{fmt[:10]}：可选 .csv、.yaml、.json")
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        abort(400, description=f"没有这个状态：{status[:20]}")
    text = format_records([entry_record(e) for e in list_entries(get_db(), status)], fmt)
    body = text.encode("utf-8-sig" if fmt == "csv" else "utf-8")
    response = Response(body, mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="pufa-entries.{fmt}"'
    return response


@bp.post("/import")
@require_permission("edit")
def upload() -> Response | tuple[str, int]:
    """Import an uploaded file as drafts; every problem listed on an error page (400)."""
    uploaded = request.files.get("file")
    if uploaded is None or not uploaded.filename:
        abort(400, description="请选择要导入的文件（.csv、.yaml、.json）")
    name = PurePath(uploaded.filename).name
    data = uploaded.read(MAX_UPLOAD_BYTES + 1)
    try:
        if len(data) > MAX_UPLOAD_BYTES:
            raise ExchangeError(f"文件太大（最多{MAX_UPLOAD_BYTES // 1024 // 1024} MB）")
        fmt = file_format(PurePath(name))
        text = decode_text(data, fmt, PurePath(name))
        result = import_as_drafts(get_db(), current_user.account, parse_records(text, fmt))
    except (ExchangeError, ReviewError) as error:
        log.info("console: import of %s by %s refused: %s", name, current_user.name, error)
        page = render_template("console/import_error.html", name=name, message=str(error))
        return page, 400
    log.info("console: %s imported %s: %s", current_user.name, name, result)
    flash(str(result))
    return redirect(url_for("admin.entries.listing", status="draft"))
