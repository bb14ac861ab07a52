"""Site settings (``/admin/settings``, admins only): the local facts answers name.

Saved values are read by the next message every worker answers: no restart.
"""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from console.access import require_permission
from knowledge.db import get_db, write
from knowledge.settings import SETTINGS, TEXT_SETTINGS, SettingError, get_settings, set_setting

bp = Blueprint("settings", __name__, url_prefix="/settings")
log = logging.getLogger(__name__)


def _page(values: dict[str, str], error: str | None = None, status: int = 200) -> tuple[str, int]:
    page = render_template(
        "console/settings.html",
        settings=SETTINGS,
        text_settings=TEXT_SETTINGS,
        values=values,
        error=error,
    )
    return page, status


@bp.get("")
@require_permission("manage")
def edit() -> tuple[str, int]:
    """Every setting with its current value and what residents read while it is empty."""
    return _page(get_settings(get_db()))


@bp.post("")
@require_permission("manage")
def save() -> Response | tuple[str, int]:
    """Save every setting in the form at once (all or nothing; 400 with the reason)."""
    db = get_db()
    submitted = {key: request.form.get(key, "") for key in [*SETTINGS, *TEXT_SETTINGS]}
    changed = []
    try:
        with write(db):
            for key, value in submitted.items():
                if key in request.form and set_setting(db, key, value, current_user.name):
                    changed.append(key)
    except SettingError as error:
        log.info("console: %s's settings refused: %s", current_user.name, error)
        return _page(submitted, f"没有保存：{error}", 400)
    if changed:
        log.info("console: %s changed settings %s", current_user.name, ", ".join(changed))
        flash(f"已保存：{'、'.join(changed)}。居民下一条消息起就会看到。")
    else:
        flash("没有改动。")
    return redirect(url_for("admin.settings.edit"))
