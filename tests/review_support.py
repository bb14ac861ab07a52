"""Asking the API as a resident would, in the review tests."""

from __future__ import annotations

from flask.testing import FlaskClient


def ask(client: FlaskClient, text: str) -> dict:
    """The API's answer to ``text``."""
    response = client.post("/api/ask", json={"text": text, "user": "review-test"})
    assert response.status_code == 200
    return response.get_json()
