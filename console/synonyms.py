"""Synonym groups (``/admin/synonyms``, admins only) that the matcher folds together.

A change reaches every worker's matcher with its next message.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from console.access import require_permission
from knowledge.db import get_db
from knowledge.synonyms import add_synonym_group, delete_synonym_group, synonym_groups_with_ids

bp = Blueprint("synonyms", __name__, url_prefix="/synonyms")
log = logging.getLogger(__name__)

#: Words in the form may be separated by spaces, commas, 、 or slashes.
_SEPARATORS = re.compile(r"[\s,，、/／;；]+")


def _page(error: str | None = None, status: int = 200, words: str = "") -> tuple[str, int]:
    groups = synonym_groups_with_ids(get_db())
    page = render_template("console/synonyms.html", groups=groups, error=error, words=words)
    return page, status


@bp.get("")
@require_permission("manage")
def listing() -> tuple[str, int]:
    """Every synonym group, the form to add one and a delete button for each."""
    return _page()


@bp.post("")
@require_permission("manage")
def add() -> Response | tuple[str, int]:
    """Add the group typed in the form (400 with the reason, the text kept, if refused)."""
    typed = request.form.get("words", "")
    words = [word for word in _SEPARATORS.split(typed) if word]
    try:
        group_id = add_synonym_group(get_db(), words, by=current_user.name)
    except ValueError as error:
        log.info("console: %s's synonym group refused: %s", current_user.name, error)
        return _page(str(error), 400, typed)
    log.info("console: %s added synonym group %d", current_user.name, group_id)
    flash(f"已添加同义词组：{' / '.join(dict.fromkeys(words))}")
    return redirect(url_for("admin.synonyms.listing"))


@bp.post("/<int:group_id>/delete")
@require_permission("manage")
def delete(group_id: int) -> Response:
    """Delete one group; 404 if there is none (already deleted, perhaps in another tab)."""
    if group_id >= 2**63 or not delete_synonym_group(get_db(), group_id, by=current_user.name):
        abort(404, description=f"没有编号为 {group_id} 的同义词组（可能已经删除）")
    log.info("console: %s deleted synonym group %d", current_user.name, group_id)
    flash(f"已删除同义词组 {group_id}")
    return redirect(url_for("admin.synonyms.listing"))
