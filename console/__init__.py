"""The staff console at ``/admin``: where the office writes, reviews and runs Pufa.

One blueprint per area, all nested in the ``admin`` blueprint of :mod:`console.frame`, which
signs staff in, checks CSRF on every POST and renders errors. Only the app factory imports
this package; the console calls ``knowledge`` and never the other way round.
"""

from __future__ import annotations

from flask import Flask, redirect, request
from werkzeug.wrappers import Response

from console import (
    access,
    account,
    audit,
    auth,
    calendar,
    campaigns,
    dashboard,
    entries,
    entry_form,
    exchange,
    frame,
    report,
    review,
    settings,
    synonyms,
    topics,
    tryout,
    unanswered,
    users,
)

#: The console's areas, in the order they are registered under ``/admin``.
AREAS = (
    auth,
    dashboard,
    unanswered,
    tryout,
    entries,
    entry_form,
    exchange,
    review,
    topics,
    calendar,
    campaigns,
    report,
    users,
    account,
    settings,
    synonyms,
    audit,
)
# Nested once, at import: every app built later registers the same ``admin`` blueprint.
for _area in AREAS:
    frame.bp.register_blueprint(_area.bp)


def init_app(app: Flask) -> None:
    """Register the console on ``app``: sign-in, CSRF, its blueprints, the ``/staff`` redirect."""
    access.init_app(app)
    app.register_blueprint(frame.bp)
    app.add_url_rule("/staff/", "staff_moved", staff_moved, defaults={"rest": ""})
    app.add_url_rule("/staff/<path:rest>", "staff_moved", staff_moved)


def staff_moved(rest: str) -> Response:
    """The old staff pages' addresses (``/staff/…``) lead to the same page under ``/admin``."""
    query = request.query_string.decode("latin-1")
    return redirect(f"/admin/{rest}" + (f"?{query}" if query else ""), code=308)
