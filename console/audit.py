"""The audit log (``/admin/audit``, admins only): who changed what and when, filtered, paged."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

from flask import Blueprint, abort, render_template, request

from console.access import require_permission
from console.paging import filter_arg, requested_page
from knowledge.audit import AuditFilter, audit_values, count_audit, list_audit
from knowledge.db import get_db
from knowledge.store import SHANGHAI

bp = Blueprint("audit", __name__, url_prefix="/audit")
log = logging.getLogger(__name__)

AUDIT_PER_PAGE = 50
#: What staff read for the object types and actions the log holds (others show as stored).
OBJECT_TYPE_NAMES = {
    "entry": "条目",
    "setting": "设置",
    "synonym_group": "同义词组",
    "user": "账号",
}
ACTION_NAMES = {
    "create": "新建",
    "update": "修改",
    "delete": "删除",
    "set_password": "改密码",
    "set_role": "改角色",
    "disable": "停用",
    "enable": "启用",
    "submit": "提交审核",
    "approve": "审核通过",
    "return": "退回",
    "archive": "归档",
    "restore": "恢复",
}


def _day(name: str) -> date | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        log.info("console %s: bad date %s=%r", request.path, name, raw[:50])
        abort(400, description=f"日期格式应为 年-月-日，例如 2026-03-01，而不是“{raw[:20]}”")


def _utc(day: date) -> str:
    """The stored (UTC) timestamp of midnight at the start of ``day`` in Beijing."""
    return datetime.combine(day, time(), SHANGHAI).astimezone(UTC).isoformat(timespec="seconds")


def requested_filter(db_values: dict[str, list[str]]) -> AuditFilter:
    """The filter the query string asks for; 400 for a value the log has never held."""
    choices = {
        column: {value: names.get(value, value) for value in db_values[column]}
        for column, names in (
            ("actor", {}),
            ("object_type", OBJECT_TYPE_NAMES),
            ("action", ACTION_NAMES),
        )
    }
    since, until = _day("from"), _day("to")
    if since and until and since > until:
        abort(400, description="开始日期不能晚于结束日期")
    return AuditFilter(
        actor=filter_arg("actor", choices["actor"], "操作人"),
        object_type=filter_arg("object_type", choices["object_type"], "对象"),
        action=filter_arg("action", choices["action"], "操作"),
        since=_utc(since) if since else None,
        until=_utc(until + timedelta(days=1)) if until else None,
    )


@bp.get("")
@require_permission("manage")
def listing() -> str:
    """The audit log, newest first, 50 a page, filtered by actor, object, action and dates."""
    db = get_db()
    values = {column: audit_values(db, column) for column in ("actor", "object_type", "action")}
    where = requested_filter(values)
    pager = requested_page(count_audit(db, where), AUDIT_PER_PAGE)
    return render_template(
        "console/audit.html",
        records=list_audit(db, where=where, limit=pager.size, offset=pager.offset),
        pager=pager,
        values=values,
        selected=request.args,
        object_type_name=lambda key: OBJECT_TYPE_NAMES.get(key, key),
        action_name=lambda key: ACTION_NAMES.get(key, key),
    )
