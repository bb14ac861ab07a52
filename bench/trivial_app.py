"""The baseline for the API benchmark: a Flask app that answers a constant, on the same stack.

Same request shape as ``POST /api/ask`` (a JSON body read and a JSON reply written), no
knowledge base: the difference from Pufa's figures is Pufa's own work per request.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.wrappers import Response

CONSTANT_REPLY = {"kind": "answer", "reply": "好的", "entry_id": None, "score": None, "choices": []}


def create_trivial_app() -> Flask:
    """A one-route app: ``POST /api/ask`` reads the JSON body and returns a constant."""
    app = Flask(__name__)

    @app.post("/api/ask")
    def ask() -> Response:
        request.get_json(silent=True)
        return jsonify(CONSTANT_REPLY)

    return app


app = create_trivial_app()
