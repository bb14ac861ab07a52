"""Asking the API after a publish: the live index may rebuild in the background on a busy machine."""

from __future__ import annotations

import time

from flask.testing import FlaskClient

#: A slow index build (over live_index.SYNC_REBUILD_SECONDS on a loaded machine) is
#: replaced in the background; a published change reaches answers within this many seconds.
REBUILD_WAIT_SECONDS = 10.0


def ask(client: FlaskClient, text: str) -> dict:
    """The API's answer to ``text``."""
    response = client.post("/api/ask", json={"text": text, "user": "review-test"})
    assert response.status_code == 200
    return response.get_json()


def answer_once_published(client: FlaskClient, text: str, entry_id: int) -> dict:
    """The API's answer to ``text`` once it comes from ``entry_id`` (bounded wait), else the last."""
    deadline = time.monotonic() + REBUILD_WAIT_SECONDS
    while True:
        reply = ask(client, text)
        if reply["entry_id"] == entry_id or time.monotonic() > deadline:
            return reply
        time.sleep(0.05)
