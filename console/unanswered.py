"""What residents asked that Pufa could not answer (``/admin/unanswered``), and what staff do.

The queue is grouped by similar text (``knowledge.unanswered_groups``); any signed-in staff
member may look, acting on a group needs "edit": add one of its wordings as an alternate of
an entry (after the collision check), make a new entry's draft from it, or dismiss it.
``/admin/unanswered/latest`` lists the questions one by one, and the CSV has them for Excel.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from console.access import require_permission
from console.paging import requested_page
from knowledge.db import get_db
from knowledge.matching.live_index import current_index
from knowledge.review import ReviewError
from knowledge.unanswered import count_unanswered, recent_unanswered, unanswered_csv
from knowledge.unanswered_groups import (
    MAX_TURNS_PER_ACTION,
    QueueError,
    UnansweredGroup,
    add_alternate_from_group,
    dismiss_group,
    group_of,
    new_entry_from_group,
    unanswered_groups,
)

bp = Blueprint("unanswered", __name__)
log = logging.getLogger(__name__)

UNANSWERED_PER_PAGE = 50
UNANSWERED_DOWNLOAD_LIMIT = 10_000
GROUPS_SHOWN = 100
_TURN_IDS = re.compile(r"[1-9][0-9]{0,17}(?:,[1-9][0-9]{0,17})*")
_ENTRY_ID = re.compile(r"[1-9][0-9]{0,17}")


@bp.get("/unanswered")
def groups() -> str:
    """The open questions grouped by similar text, most asked first, with the actions."""
    db = get_db()
    shown = unanswered_groups(db)
    return render_template(
        "console/unanswered_groups.html",
        groups=shown[:GROUPS_SHOWN],
        more=max(0, len(shown) - GROUPS_SHOWN),
        total=count_unanswered(db),
    )


@bp.get("/unanswered/latest")
def listing() -> str:
    """Every open question one by one, newest first, 50 a page."""
    db = get_db()
    pager = requested_page(count_unanswered(db), UNANSWERED_PER_PAGE)
    items = recent_unanswered(db, pager.size, pager.offset)
    return render_template("console/unanswered.html", items=items, pager=pager)


@bp.get("/unanswered.csv")
def download() -> Response:
    """The latest open questions (up to 10,000) as a CSV file that Excel opens."""
    text, count = unanswered_csv(get_db(), UNANSWERED_DOWNLOAD_LIMIT)
    log.info("console: downloaded %d unanswered questions", count)
    return Response(
        text.encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=unanswered.csv"},
    )


def _posted_group() -> UnansweredGroup:
    """The group a form posted back (its turn ids); 400 when the ids are malformed."""
    raw = request.form.get("turns", "")
    if not _TURN_IDS.fullmatch(raw) or raw.count(",") >= MAX_TURNS_PER_ACTION:
        log.info("console %s: bad turn ids %r", request.path, raw[:80])
        abort(400, description="表单里的问题编号不正确：请重新打开页面后再操作")
    return group_of(get_db(), [int(n) for n in raw.split(",")])


def _back(message: str) -> Response:
    flash(message)
    return redirect(url_for("admin.unanswered.groups"), code=303)


@bp.post("/unanswered/dismiss")
@require_permission("edit")
def dismiss() -> Response:
    """Dismiss a group: it leaves the queue (who and when are kept, and audited)."""
    try:
        handled = dismiss_group(get_db(), _posted_group().turn_ids, current_user.account)
    except QueueError as error:
        log.info("console: dismiss refused: %s", error)
        return _back(str(error))
    log.info("console: %s dismissed %d unanswered questions", current_user.name, handled)
    return _back(f"已忽略{handled}条问题")


@bp.post("/unanswered/new-entry")
@require_permission("edit")
def new_entry() -> Response:
    """Make a new entry's draft from a group, and open it in the entry form for the answer."""
    try:
        group = _posted_group()
        entry_id = new_entry_from_group(get_db(), group, current_user.account)
    except (QueueError, ReviewError) as error:
        log.info("console: new entry from unanswered refused: %s", error)
        return _back(str(error))
    log.info(
        "console: %s made draft entry %d from %d questions",
        current_user.name,
        entry_id,
        group.count,
    )
    flash(f"已新建条目{entry_id}的草稿：请写好答案和法律依据，再提交审核")
    return redirect(url_for("admin.entry_form.edit", entry_id=entry_id), code=303)


@bp.post("/unanswered/alternate")
@require_permission("edit")
def alternate() -> Response | str:
    """Add a wording as an alternate of an entry's draft; on a collision warning, ask first."""
    # A number typed in wins over the closest entries' radio buttons.
    raw_entry = (request.form.get("entry_other") or request.form.get("entry_id") or "").strip()
    if not _ENTRY_ID.fullmatch(raw_entry):
        return _back("请选择或填写要加入的条目编号")
    db = get_db()
    try:
        group = _posted_group()
        result = add_alternate_from_group(
            db,
            group,
            int(raw_entry),
            request.form.get("alternate", ""),
            current_user.account,
            current_index(db, str(current_app.config["DATABASE"])),
            confirmed=request.form.get("confirmed") == "1",
        )
    except (QueueError, ReviewError) as error:
        log.info("console: alternate from unanswered refused: %s", error)
        return _back(str(error))
    if not result.saved:
        log.info(
            "console: alternate for entry %d held back by %d findings",
            result.entry_id,
            len(result.findings),
        )
        return render_template("console/unanswered_confirm.html", group=group, result=result)
    log.info(
        "console: %s added an alternate to entry %d's draft", current_user.name, result.entry_id
    )
    return _back(
        f"已把“{result.alternate}”加入条目{result.entry_id}的草稿：提交审核、通过后居民才会用到"
    )
