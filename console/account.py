"""The signed-in staff member's own page (``/admin/account``): their phone for previews.

Campaign previews go only to a phone its staff member bound on purpose
(:mod:`knowledge.staff_phones`): here they get a one-time code to send from WeChat, see
whether a phone is bound, and unbind it.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from console.access import require_permission
from knowledge.db import get_db
from knowledge.staff_phones import (
    CODE_TTL_SECONDS,
    BindingCode,
    bound_phone,
    issue_binding_code,
    unbind_phone,
)
from knowledge.store import SHANGHAI

bp = Blueprint("account", __name__, url_prefix="/account")
log = logging.getLogger(__name__)


def _page(code: BindingCode | None = None) -> str:
    expires = datetime.fromtimestamp(code.expires_at, SHANGHAI).strftime("%H:%M") if code else ""
    return render_template(
        "console/account.html",
        phone=bound_phone(get_db(), current_user.name),
        code=code,
        code_expires=expires,
        code_minutes=CODE_TTL_SECONDS // 60,
    )


@bp.get("")
@require_permission("edit")
def page() -> str:
    """This account, and whether a phone is bound for previews."""
    return _page()


@bp.post("/phone-code")
@require_permission("edit")
def phone_code() -> str:
    """Show a new one-time code to send from WeChat (any earlier code stops working)."""
    code = issue_binding_code(get_db(), current_user.name)
    log.info("console: %s asked for a phone binding code", current_user.name)
    return _page(code)


@bp.post("/phone/unbind")
@require_permission("edit")
def unbind() -> Response:
    """Forget this account's phone: no more previews reach it."""
    if unbind_phone(get_db(), current_user.name):
        flash("已解除绑定：这部手机不会再收到群发预览。")
    else:
        flash("这个账号没有绑定手机。")
    return redirect(url_for("admin.account.page"))
