""" "试一试" (``/admin/try``): ask a question as a resident would and see how Pufa decides.

A GET form: trying changes nothing (no dialogue state, no turn recorded), so it needs no
CSRF token and any signed-in staff member may use it.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, render_template, request

from bot.tryout import try_question
from knowledge.db import get_db
from knowledge.matching.live_index import current_index

bp = Blueprint("tryout", __name__)
log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 2000


@bp.get("/try")
def page() -> tuple[str, int]:
    """The form; with ``?q=`` the ranked candidates, the band and why, and the exact reply.

    400 (with the form and a message) for a question over 2000 characters.
    """
    text = request.args.get("q", "").strip()
    if len(text) > MAX_QUESTION_CHARS:
        log.info("console try: question of %d characters refused", len(text))
        error = f"问题太长（{len(text)}字，最多{MAX_QUESTION_CHARS}字）"
        return render_template("console/tryout.html", text=text, result=None, error=error), 400
    result = None
    if text:
        db = get_db()
        result = try_question(db, current_index(db, str(current_app.config["DATABASE"])), text)
    return render_template("console/tryout.html", text=text, result=result, error=""), 200
