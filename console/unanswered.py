"""What residents asked that Pufa could not answer (``/admin/unanswered``), and its CSV."""

from __future__ import annotations

import logging

from flask import Blueprint, render_template
from werkzeug.wrappers import Response

from console.access import require_permission
from console.paging import requested_page
from knowledge.db import get_db
from knowledge.unanswered import count_unanswered, recent_unanswered, unanswered_csv

bp = Blueprint("unanswered", __name__)
log = logging.getLogger(__name__)

UNANSWERED_PER_PAGE = 50
UNANSWERED_DOWNLOAD_LIMIT = 10_000


@bp.get("/unanswered")
@require_permission("edit")
def listing() -> str:
    """Every question Pufa gave choices for or could not answer, newest first, 50 a page."""
    db = get_db()
    pager = requested_page(count_unanswered(db), UNANSWERED_PER_PAGE)
    items = recent_unanswered(db, pager.size, pager.offset)
    return render_template("console/unanswered.html", items=items, pager=pager)


@bp.get("/unanswered.csv")
@require_permission("edit")
def download() -> Response:
    """The latest unanswered questions (up to 10,000) as a CSV file that Excel opens."""
    text, count = unanswered_csv(get_db(), UNANSWERED_DOWNLOAD_LIMIT)
    log.info("console: downloaded %d unanswered questions", count)
    return Response(
        text.encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=unanswered.csv"},
    )
