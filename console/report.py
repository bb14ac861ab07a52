"""The year's publicity report (``/admin/report``): a printable page and its CSV."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, render_template, request
from werkzeug.wrappers import Response

from console.access import require_permission
from knowledge.db import get_db
from knowledge.store import SHANGHAI
from scheduler.campaigns import STATUS_NAMES
from scheduler.report import report_csv, year_report

bp = Blueprint("report", __name__)


def _year() -> int:
    raw = request.args.get("year", "")
    if not raw:
        return datetime.now(SHANGHAI).year
    if not raw.isdigit() or not 1901 <= int(raw) <= 2099:
        abort(400, description="年份请写成 2027 这样的四位数字。")
    return int(raw)


@bp.get("/report")
@require_permission("edit")
def page() -> str:
    """The report of ``?year=`` (default: this year), ready to print."""
    figures = year_report(get_db(), _year())
    return render_template("console/report.html", report=figures, statuses=STATUS_NAMES)


@bp.get("/report.csv")
@require_permission("edit")
def download() -> Response:
    """The report of ``?year=`` as a CSV file that Excel opens."""
    figures = year_report(get_db(), _year())
    return Response(
        report_csv(figures).encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=report-{figures.year}.csv"},
    )
