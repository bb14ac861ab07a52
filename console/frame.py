"""The frame around every console page: the ``admin`` blueprint that the areas nest in.

Before any view runs, :func:`console_guard` answers 503 while the console cannot be safe
(the public default ``SECRET_KEY``), sends strangers to the sign-in form, and checks the
CSRF token of every POST — so pages added later are covered without doing anything.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, NoReturn

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from console.access import csrf
from knowledge.entries import STATUS_NAMES
from knowledge.store import local_time
from knowledge.topics import topic_name
from knowledge.unanswered import KIND_NAMES
from knowledge.users import ROLE_NAMES

bp = Blueprint(
    "admin", __name__, url_prefix="/admin", template_folder="templates", static_folder="static"
)
log = logging.getLogger(__name__)

#: bot/config.py's default key is public, so a session signed with it proves nothing.
SHIPPED_SECRET_KEY = "dev-only-change-me"
# Scripts only from the console's own static files (the entry form's live preview), never
# inline; they may call back only to this site.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
OPEN_ENDPOINTS = {"admin.auth.login", "admin.static"}
CSRF_MESSAGE = "表单已过期或来源不明：请重新打开页面后再提交"
_GENERIC_MESSAGES = {
    400: "请求格式不正确",
    403: "您没有权限打开这个页面",
    404: "页面不存在",
    405: "不支持这种请求方式",
}


@dataclass(frozen=True)
class NavItem:
    """A link in the console's top bar, shown to accounts with ``permission``.

    ``endpoints`` are the pages it is highlighted on.
    """

    label: str
    endpoint: str
    endpoints: tuple[str, ...]
    permission: str = "edit"


#: The top bar of every console page; each area adds its link here.
NAV = [
    NavItem("概览", "admin.dashboard.overview", ("admin.dashboard.overview",)),
    NavItem(
        "没答上的问题",
        "admin.unanswered.groups",
        ("admin.unanswered.groups", "admin.unanswered.listing", "admin.unanswered.alternate"),
    ),
    NavItem("试一试", "admin.tryout.page", ("admin.tryout.page",)),
    NavItem(
        "知识条目",
        "admin.entries.listing",
        (
            "admin.entries.listing",
            "admin.entries.detail",
            "admin.entry_form.new",
            "admin.entry_form.edit",
        ),
    ),
    NavItem("审核", "admin.review.queue", ("admin.review.queue", "admin.review.decide"), "review"),
    NavItem("宣传日历", "admin.calendar.overview", ("admin.calendar.overview",)),
    NavItem("年度报告", "admin.report.page", ("admin.report.page",)),
    NavItem(
        "群发",
        "admin.campaigns.listing",
        tuple(
            f"admin.campaigns.{view}"
            for view in (
                "listing",
                "new",
                "create",
                "detail",
                "edit",
                "save",
                "submit",
                "approve",
                "send_back",
                "cancel",
                "preview",
            )
        ),
    ),
    NavItem("账号", "admin.users.listing", ("admin.users.listing",), "manage"),
    NavItem("设置", "admin.settings.edit", ("admin.settings.edit",), "manage"),
    NavItem("同义词", "admin.synonyms.listing", ("admin.synonyms.listing",), "manage"),
    NavItem("操作记录", "admin.audit.listing", ("admin.audit.listing",), "manage"),
]


def console_unavailable(config: dict[str, Any]) -> tuple[str, str] | None:
    """Why the console is off — (cause for the log, message for staff) — or None if it is on."""
    if config.get("SECRET_KEY") in (None, "", SHIPPED_SECRET_KEY):
        return (
            "SECRET_KEY is unset or the shipped default",
            "员工后台未启用：请把 PUFA_SECRET_KEY 设为一个长的随机值",
        )
    return None


def here() -> str:
    """The path (and query) of this request, to come back to after signing in."""
    return request.full_path if request.query_string else request.path


@bp.before_request
def console_guard() -> Response | None:
    """Before every console request: 503 while unsafe, sign-in for strangers, CSRF for POSTs."""
    unavailable = console_unavailable(current_app.config)
    if unavailable:
        log.warning("console page %s refused: %s", request.path, unavailable[0])
        abort(503, description=unavailable[1])
    if request.endpoint not in OPEN_ENDPOINTS and not current_user.is_authenticated:
        return redirect(url_for("admin.auth.login", next=here()))
    if request.method == "POST":
        csrf.protect()
    return None


@bp.route("/<path:unknown>")
def unknown_page(unknown: str) -> NoReturn:
    """An address under /admin that no console page has: the console's own 404 page.

    Routing tries every console page first (a path converter alone is the least specific
    rule), and strangers are sent to sign in before they learn what exists. A page that
    exists for other methods only (``/admin/logout`` takes POST) still answers 405.
    """
    adapter = current_app.create_url_adapter(request)
    others = set(adapter.allowed_methods() if adapter else ()) - {"GET", "HEAD", "OPTIONS"}
    if others:
        abort(405, valid_methods=sorted(others))
    abort(404)


@bp.after_request
def _protect(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "admin.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(HTTPException)
def _console_error(error: HTTPException) -> tuple[str | Response, int, list[tuple[str, str]]]:
    code = error.code or 500
    if isinstance(error, CSRFError):
        log.warning(
            "console %s: CSRF check failed from %s: %s",
            request.path,
            request.remote_addr,
            error.description,
        )
        message = CSRF_MESSAGE
    elif error.description and error.description != type(error).description:
        message = error.description
    else:
        message = _GENERIC_MESSAGES.get(code, error.name)
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if request.path.endswith(".json"):  # the console's own scripts ask these
        return jsonify(error=message, status=code), code, headers
    return render_template("console/error.html", code=code, message=message), code, headers


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "local_time": local_time,
        "nav": NAV,
        "status_name": lambda key: STATUS_NAMES.get(key, key),
        "kind_name": lambda key: KIND_NAMES.get(key, key),
        "role_name": lambda key: ROLE_NAMES.get(key, key),
        "topic_name": topic_name,
    }
