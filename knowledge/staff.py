"""Staff pages at ``/staff``: sign-in, what residents asked that Pufa could not answer, entries.

One shared password (``STAFF_PASSWORD``) for now; accounts and roles come later. Every page
but the sign-in needs ``session["staff"]``, and every POST carries the session's CSRF token:
:func:`staff_guard` checks both before any view runs, so pages added later are covered.
"""

from __future__ import annotations

import hmac
import logging
import math
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from knowledge.db import get_db
from knowledge.entries import STATUSES
from knowledge.laws import article_for_ref
from knowledge.settings import get_settings, render_placeholders
from knowledge.store import entry_versions, get_entry, list_entries, local_time
from knowledge.topics import TOPICS, topic_name
from knowledge.unanswered import KIND_NAMES, count_unanswered, recent_unanswered, unanswered_csv

bp = Blueprint(
    "staff", __name__, url_prefix="/staff", template_folder="templates", static_folder="static"
)
log = logging.getLogger(__name__)

STATUS_NAMES = {"draft": "草稿", "in_review": "待审核", "published": "已发布", "archived": "已归档"}
UNANSWERED_PER_PAGE = 50
UNANSWERED_DOWNLOAD_LIMIT = 10_000
DASHBOARD_UNANSWERED = 20
LOGIN_ATTEMPTS = 5
LOGIN_WINDOW = 60.0
#: China has kept UTC+8 without daylight saving since 1991: a fixed offset is exact here.
#: bot/config.py's default key is public, so a session signed with it proves nothing.
SHIPPED_SECRET_KEY = "dev-only-change-me"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_OPEN_ENDPOINTS = {"staff.login", "staff.static"}
_PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
_MAX_SQLITE_INTEGER = 2**63 - 1
_THROTTLE = "pufa.staff_login_throttle"
_GENERIC_MESSAGES = {400: "请求格式不正确", 404: "页面不存在", 405: "不支持这种请求方式"}


@dataclass(frozen=True)
class NavItem:
    """A link in the staff pages' top bar; ``endpoints`` are the pages it is highlighted on."""

    label: str
    endpoint: str
    endpoints: tuple[str, ...]


#: The top bar of every staff page; later staff pages add themselves here.
NAV = [
    NavItem("概览", "staff.dashboard", ("staff.dashboard",)),
    NavItem("没答上的问题", "staff.unanswered", ("staff.unanswered",)),
    NavItem("知识条目", "staff.entries", ("staff.entries", "staff.entry")),
]


class LoginThrottle:
    """Failed sign-ins per address: after ``limit`` within ``window`` seconds, the next waits.

    In-process on purpose (naive): each gunicorn worker counts on its own.
    """

    def __init__(
        self,
        limit: int = LOGIN_ATTEMPTS,
        window: float = LOGIN_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def wait_seconds(self, address: str) -> int:
        """Whole seconds ``address`` must wait before trying again (0: it may try now)."""
        now = self.clock()
        with self._lock:
            recent = [t for t in self._failures.get(address, []) if now - t < self.window]
        if len(recent) < self.limit:
            return 0
        return max(1, math.ceil(recent[-self.limit] + self.window - now))

    def note_failure(self, address: str) -> None:
        """Count a wrong password from ``address``, forgetting addresses quiet for a window."""
        now = self.clock()
        with self._lock:
            for known in [
                a for a, times in self._failures.items() if now - times[-1] >= self.window
            ]:
                del self._failures[known]
            self._failures[address] = [*self._failures.get(address, []), now][-self.limit :]

    def forget(self, address: str) -> None:
        """Clear ``address``'s failures (it signed in)."""
        with self._lock:
            self._failures.pop(address, None)


@bp.record_once
def _add_throttle(state: BlueprintSetupState) -> None:
    state.app.extensions[_THROTTLE] = LoginThrottle()


def staff_unavailable(config: dict[str, Any]) -> tuple[str, str] | None:
    """Why the staff pages are off — (cause for the log, message for staff) — or None if on."""
    password = config.get("STAFF_PASSWORD")
    if not password:
        return "STAFF_PASSWORD is not set", "员工页面未启用：请设置 PUFA_STAFF_PASSWORD"
    if not isinstance(password, str):
        return (
            "STAFF_PASSWORD is not a string",
            "员工页面未启用：PUFA_STAFF_PASSWORD 应为文字（纯数字的密码请加引号）",
        )
    if config.get("SECRET_KEY") in (None, "", SHIPPED_SECRET_KEY):
        return (
            "SECRET_KEY is unset or the shipped default",
            "员工页面未启用：请把 PUFA_SECRET_KEY 设为一个长的随机值",
        )
    return None


def csrf_token() -> str:
    """This session's token for forms that POST (made on first use)."""
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


def _check_csrf() -> None:
    expected = session.get("csrf_token")
    sent = request.form.get("csrf_token", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        log.warning(
            "staff %s: missing or wrong CSRF token from %s", request.path, request.remote_addr
        )
        abort(400, description="表单已过期或来源不明：请重新打开页面后再提交")


def _here() -> str:
    return request.full_path if request.query_string else request.path


def staff_guard() -> Response | None:
    """Before every staff request: 503 while disabled, sign-in for strangers, CSRF for POSTs."""
    unavailable = staff_unavailable(current_app.config)
    if unavailable:
        log.warning("staff page %s refused: %s", request.path, unavailable[0])
        abort(503, description=unavailable[1])
    if not session.get("staff") and request.endpoint not in _OPEN_ENDPOINTS:
        return redirect(url_for("staff.login", next=_here()))
    if request.method == "POST":
        _check_csrf()
    return None


bp.before_request(staff_guard)


@bp.after_request
def _protect(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if request.endpoint != "staff.static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(HTTPException)
def _staff_error(error: HTTPException) -> tuple[str, int, list[tuple[str, str]]]:
    code = error.code or 500
    given = error.description and error.description != type(error).description
    message = error.description if given else _GENERIC_MESSAGES.get(code, error.name)
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    return render_template("staff/error.html", code=code, message=message), code, headers


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "csrf_token": csrf_token,
        "local_time": local_time,
        "nav": NAV,
        "status_name": lambda key: STATUS_NAMES.get(key, key),
        "kind_name": lambda key: KIND_NAMES.get(key, key),
        "topic_name": topic_name,
    }


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the dashboard — never an open redirect."""
    if not target:
        return url_for("staff.dashboard")
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or parts.scheme
        or parts.netloc
        or any(char.isspace() or ord(char) < 32 for char in target)
    ):
        log.warning("staff sign-in: refused redirect target %r", target[:200])
        return url_for("staff.dashboard")
    return target


def _login_form(
    next_page: str, error: str | None, status: int, headers: dict | None = None
) -> tuple[str, int, dict]:
    page = render_template("staff/login.html", next_page=next_page, error=error)
    return page, status, headers or {}


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int, dict]:
    """The sign-in form; POST checks the shared password and goes on to ``next``.

    401 for a wrong password, 400 for none, 429 after too many wrong ones from one address.
    """
    next_page = safe_next(request.values.get("next"))
    if request.method == "GET":
        if session.get("staff"):
            return redirect(next_page)
        return _login_form(next_page, None, 200)
    address = request.remote_addr or "unknown"
    throttle: LoginThrottle = current_app.extensions[_THROTTLE]
    wait = throttle.wait_seconds(address)
    if wait:
        log.warning("staff sign-in: %s locked out for %d s", address, wait)
        message = f"密码错误次数太多，请{wait}秒后再试"
        return _login_form(next_page, message, 429, {"Retry-After": str(wait)})
    password = request.form.get("password", "")
    if not password:
        log.info("staff sign-in: empty password from %s", address)
        return _login_form(next_page, "请输入密码", 400)
    expected = current_app.config["STAFF_PASSWORD"]
    if not hmac.compare_digest(password.encode(), expected.encode()):
        throttle.note_failure(address)
        log.warning("staff sign-in: wrong password from %s", address)
        return _login_form(next_page, "密码不正确", 401)
    throttle.forget(address)
    session.clear()
    session["staff"] = True
    session["csrf_token"] = secrets.token_urlsafe(32)
    log.info("staff signed in from %s", address)
    return redirect(next_page)


@bp.post("/logout")
def logout() -> Response:
    """End the staff session and go back to the sign-in form."""
    session.clear()
    log.info("staff signed out from %s", request.remote_addr)
    flash("您已退出登录")
    return redirect(url_for("staff.login"))


@bp.get("/")
def dashboard() -> str:
    """Entries counted per status and per topic, and the latest questions Pufa did not answer."""
    db = get_db()
    by_topic: dict[str, Counter[str]] = {key: Counter() for key in TOPICS}
    for topic, status, count in db.execute(
        "SELECT topic, status, count(*) FROM entries GROUP BY topic, status"
    ).fetchall():
        by_topic.setdefault(topic, Counter())[status] += count
    by_status = sum(by_topic.values(), Counter())
    return render_template(
        "staff/dashboard.html",
        statuses=[*STATUSES, *sorted(set(by_status) - set(STATUSES))],
        by_status=by_status,
        by_topic=by_topic,
        known_statuses=STATUS_NAMES,
        known_topics=TOPICS,
        unanswered=recent_unanswered(db, DASHBOARD_UNANSWERED),
        unanswered_total=count_unanswered(db),
    )


@dataclass(frozen=True)
class Pager:
    """Which page of a list is shown: ``number`` of ``pages``, ``size`` items each."""

    number: int
    pages: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        """How many items come before this page."""
        return (self.number - 1) * self.size

    def url(self, number: int) -> str:
        """This page's URL (filters kept) at page ``number``."""
        return url_for(request.endpoint or "", **{**request.args.to_dict(), "page": number})


def requested_page(total: int, size: int) -> Pager:
    """The page ``?page=N`` asks for, clamped to the last; 400 unless N is a positive integer."""
    raw = request.args.get("page", "1")
    if not _PAGE_NUMBER.fullmatch(raw):
        log.info("staff %s: bad page number %r", request.path, raw[:50])
        abort(400, description="页码应为正整数，例如 ?page=2")
    pages = max(1, math.ceil(total / size))
    return Pager(min(int(raw), pages), pages, size, total)


@bp.get("/unanswered")
def unanswered() -> str:
    """Every question Pufa gave choices for or could not answer, newest first, 50 a page."""
    db = get_db()
    pager = requested_page(count_unanswered(db), UNANSWERED_PER_PAGE)
    items = recent_unanswered(db, pager.size, pager.offset)
    return render_template("staff/unanswered.html", items=items, pager=pager)


@bp.get("/unanswered.csv")
def unanswered_download() -> Response:
    """The latest unanswered questions (up to 10,000) as a CSV file that Excel opens."""
    text, count = unanswered_csv(get_db(), UNANSWERED_DOWNLOAD_LIMIT)
    log.info("staff downloaded %d unanswered questions", count)
    return Response(
        text.encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=unanswered.csv"},
    )


def _filter_arg(name: str, allowed: dict[str, str], label: str) -> str | None:
    value = request.args.get(name, "")
    if not value:
        return None
    if value not in allowed:
        log.info("staff %s: unknown %s %r", request.path, name, value[:50])
        options = "、".join(f"{key}（{shown}）" for key, shown in allowed.items())
        abort(400, description=f"没有这个{label}：{value[:50]}。可选的{label}：{options}")
    return value


@bp.get("/entries")
def entries() -> str:
    """All entries, optionally only one ``?status=`` and/or ``?topic=`` (400 if unknown)."""
    status = _filter_arg("status", STATUS_NAMES, "状态")
    topic = _filter_arg("topic", TOPICS, "主题")
    shown = [e for e in list_entries(get_db(), status) if topic is None or e.topic == topic]
    return render_template(
        "staff/entries.html",
        entries=shown,
        status=status,
        topic=topic,
        statuses=STATUS_NAMES,
        topics=TOPICS,
    )


@bp.get("/entries/<int:entry_id>")
def entry(entry_id: int) -> str:
    """One entry as residents read it, its law texts, phrasings and every version; 404 if none."""
    db = get_db()
    found = get_entry(db, entry_id) if entry_id <= _MAX_SQLITE_INTEGER else None
    if found is None:
        log.info("staff: no entry %d", entry_id)
        abort(404, description=f"没有编号为 {entry_id} 的条目")
    return render_template(
        "staff/entry.html",
        entry=found,
        answer=render_placeholders(found.answer, get_settings(db)),
        articles=[(ref, article_for_ref(ref)) for ref in found.law_refs],
        versions=list(reversed(entry_versions(db, entry_id))),
    )
