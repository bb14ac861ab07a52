"""Real headless Chromium and a real HTTP server on loopback, for the browser tests."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

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


@contextmanager
def served(app: Flask) -> Iterator[BaseWSGIServer]:
    """``app`` served over HTTP on a free loopback port, in a background thread."""
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield http
    finally:
        http.shutdown()
        http.server_close()
        thread.join(timeout=5)
