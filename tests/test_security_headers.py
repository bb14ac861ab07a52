"""nosniff and a Referrer-Policy on every response over real HTTP; a CSP on the web chat."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from bot import create_app
from bot.chat import CONTENT_SECURITY_POLICY
from tests.browser_support import served
from tests.conftest import TEST_CONFIG
from tests.webhook_support import WeChatSender, text_message


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """The app served over HTTP on a loopback port."""
    with served(app) as http:
        yield f"http://127.0.0.1:{http.server_port}"


def fetch(url: str, data: bytes | None = None, content_type: str = "") -> tuple[int, dict]:
    """The status and headers of a real HTTP request, error statuses included."""
    request = urllib.request.Request(url, data=data)
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        error.read()
        return error.code, dict(error.headers)


def signed_wechat_url(sender: WeChatSender, base_url: str) -> str:
    return f"{base_url}/wechat?{urllib.parse.urlencode(sender.query())}"


def test_every_kind_of_response_carries_the_headers(base_url: str, sender: WeChatSender):
    ask = json.dumps({"text": "离婚冷静期多久"}).encode()
    responses = {
        "chat page": fetch(f"{base_url}/"),
        "static file": fetch(f"{base_url}/static/chat.js"),
        "missing static file": fetch(f"{base_url}/static/nothing.js"),
        "api answer": fetch(f"{base_url}/api/ask", ask, "application/json"),
        "api error": fetch(f"{base_url}/api/ask", b"[", "application/json"),
        "api wrong method": fetch(f"{base_url}/api/ask"),
        "webhook refusal": fetch(f"{base_url}/wechat"),
        "webhook reply": fetch(
            signed_wechat_url(sender, base_url), text_message("你好").encode(), "text/xml"
        ),
        "not found": fetch(f"{base_url}/no-such-page"),
    }
    statuses = {name: status for name, (status, _headers) in responses.items()}
    assert statuses == {
        "chat page": 200,
        "static file": 200,
        "missing static file": 404,
        "api answer": 200,
        "api error": 400,
        "api wrong method": 405,
        "webhook refusal": 403,
        "webhook reply": 200,
        "not found": 404,
    }
    for name, (_status, headers) in responses.items():
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        assert headers.get("Referrer-Policy") == "same-origin", name


def test_the_chat_page_has_a_strict_content_security_policy(base_url: str):
    _status, headers = fetch(f"{base_url}/")
    policy = headers["Content-Security-Policy"]
    assert policy == CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in policy
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy


def get_urls(app: Flask) -> list[str]:
    """A URL for every GET route of ``app``: those without arguments, and a real file of each
    static folder (the app's and every blueprint's)."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            blueprint = rule.endpoint.rpartition(".")[0]
            folder = Path(
                app.blueprints[blueprint].static_folder if blueprint else app.static_folder
            )
            first_file = min(path.name for path in folder.iterdir() if path.is_file())
            urls.append(rule.rule.replace("<path:filename>", first_file))
        elif not rule.arguments:
            urls.append(rule.rule)
    return urls


def test_every_get_route_carries_the_headers(database_path: Path):
    # The staff console in service (a session key other than the public default).
    staff_on = create_app({**TEST_CONFIG, "DATABASE": str(database_path)})
    urls = get_urls(staff_on)
    assert "/" in urls and "/static/chat.css" in urls
    assert len(urls) >= 8
    with served(staff_on) as http:
        for url in urls:
            status, headers = fetch(f"http://127.0.0.1:{http.server_port}{url}")
            assert status < 500, url
            assert headers.get("X-Content-Type-Options") == "nosniff", url
            assert headers.get("Referrer-Policy") == "same-origin", url
