"""Real headless Chromium and a real HTTP server on loopback, for the browser tests."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

if TYPE_CHECKING:  # imported for real by the browser tests alone
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from playwright.sync_api import ConsoleMessage, Page, Request

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
SCREENSHOTS = Path("/tmp")


def chromium_path() -> str:
    """Debian's Chromium; the browser tests fail (not skip) without it."""
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            "Chromium not found (looked for `chromium` on PATH and /usr/bin/chromium). "
            "Install it: apt-get install -y chromium fonts-noto-cjk — or run scripts/test as root.",
            pytrace=False,
        )
    return path


def read_whole(app: Flask) -> WSGIApplication:
    """``app`` with every response body read and closed before the server sends it.

    werkzeug's development server skips closing a response when the client resets the
    connection while it drains the request (a browser context closed at the end of a test
    with a static file in flight): the open file then fails a later test with an unraisable
    ResourceWarning. Pufa streams nothing, so reading the body first changes no response.
    """

    def wsgi(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@contextmanager
def served(app: Flask) -> Iterator[BaseWSGIServer]:
    """``app`` served over HTTP on a free loopback port, in a background thread."""
    http = make_server("127.0.0.1", 0, read_whole(app), threaded=True)
    thread = threading.Thread(target=http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield http
    finally:
        http.shutdown()
        http.server_close()
        thread.join(timeout=5)


def watch_page(
    page: Page, base_url: str, problem: Callable[[str], None], foreign: Callable[[str], None]
) -> None:
    """Report ``page``'s script errors and console errors to ``problem``, and every request
    to anywhere but the app at ``base_url`` to ``foreign``."""
    host = urlsplit(base_url).netloc

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problem(f"console: {message.text}")

    def request(sent: Request) -> None:
        if urlsplit(sent.url).netloc != host:
            foreign(sent.url)

    page.on("pageerror", lambda error: problem(f"page error: {error}"))
    page.on("console", console)
    page.on("request", request)


@dataclass
class Tab:
    """A staff page in a browser, with what went wrong while it ran."""

    page: Page
    problems: list[str] = field(default_factory=list)


Opener = Callable[[dict[str, int]], Tab]
