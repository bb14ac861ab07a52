"""Nothing a stranger sends to /api/ask gives a 500: hostile bodies over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask

from tests.browser_support import served
from tests.http_support import LoopbackClient


@pytest.fixture
def http(app: Flask) -> Iterator[LoopbackClient]:
    """A client of ``app`` served on a free loopback port."""
    with served(app) as server:
        yield LoopbackClient(f"http://127.0.0.1:{server.server_port}")


@pytest.mark.parametrize(
    "body",
    [
        "[" * 1000 + "]" * 1000,
        "{" + '"a":{' * 1000 + "}" * 1001,
        '{"text": "你好", "user": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"text": ' + "[" * 100_000,
    ],
)
def test_json_nested_far_too_deep_gets_400_with_the_json_error(
    http: LoopbackClient, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = http.post("/api/ask", data=body, content_type="application/json")
    assert response.status_code == 400
    error = response.get_json()
    assert error["status"] == 400 and error["error"]
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


def test_json_nested_deep_but_readable_is_refused_for_what_it_is(http: LoopbackClient) -> None:
    body = json.dumps({"text": "你好", "user": [[[[["u"]]]]]})
    response = http.post("/api/ask", data=body, content_type="application/json")
    assert response.status_code == 400
    assert "user" in response.get_json()["detail"]
