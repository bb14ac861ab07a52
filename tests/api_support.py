"""Asking the JSON API (``POST /api/ask``) as a resident would: the tests' one ``ask``."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

#: The fields of every answer of ``/api/ask``.
ANSWER_FIELDS = {"kind", "reply", "entry_id", "score", "choices"}


def ask(client: FlaskClient, text: str, user: str = "resident") -> dict[str, Any]:
    """The API's answer to ``text`` from ``user``, after checking its status and fields."""
    response = client.post("/api/ask", json={"text": text, "user": user})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == ANSWER_FIELDS, body
    return body
