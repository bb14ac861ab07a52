"""Real HTTP on loopback: a client shaped like Flask's test client, and gunicorn as shipped.

:class:`LoopbackClient` lets :class:`tests.webhook_support.WeChatSender` sign and send
requests to a real server; :func:`gunicorn_server` runs ``wsgi:app`` under the repository's
``gunicorn.conf.py`` on 127.0.0.1, on a port the kernel picks, and keeps its log.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from werkzeug.wrappers import Response

from tests.conftest import TEST_CONFIG

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 90.0
_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


@dataclass
class LoopbackClient:
    """POSTs and GETs to ``base_url`` over a real socket; answers as werkzeug Responses."""

    base_url: str
    timeout: float = 10.0

    def __post_init__(self) -> None:
        self.session = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        """Send one request; ``query_string`` is the query, other arguments go to requests."""
        params = kwargs.pop("query_string", None)
        content_type = kwargs.pop("content_type", None)
        if content_type:
            kwargs.setdefault("headers", {})["Content-Type"] = content_type
        answer = self.session.request(
            method, self.base_url + path, params=params, timeout=self.timeout, **kwargs
        )
        return Response(
            answer.content, status=answer.status_code, headers=list(answer.headers.items())
        )

    def post(self, path: str, **kwargs: Any) -> Response:
        """A POST to ``path``."""
        return self.request("POST", path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Response:
        """A GET of ``path``."""
        return self.request("GET", path, **kwargs)


@dataclass
class Gunicorn:
    """A running gunicorn: its base URL, port and log file."""

    base_url: str
    port: int
    log: Path

    def log_text(self) -> str:
        """Everything gunicorn and the app have logged so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")


def app_environment(database: Path, **config: Any) -> dict[str, str]:
    """The environment for a server on ``database`` with the tests' account and ``config``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUFA_", "GUNICORN_"))}
    settings = {**TEST_CONFIG, "DATABASE": str(database), **config}
    settings.pop("TESTING")
    settings.pop("WECHAT_APP_SECRET")  # late replies are not what these servers test
    for key, value in settings.items():
        env[f"PUFA_{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
    env["PYTHONPATH"] = str(ROOT)
    return env


@contextmanager
def gunicorn_server(
    database: Path, workers: int = 2, extra_args: tuple[str, ...] = (), **config: Any
) -> Iterator[Gunicorn]:
    """``wsgi:app`` under the shipped gunicorn.conf.py on 127.0.0.1, a free port, ``workers``."""
    log = database.parent / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        "127.0.0.1:0",
        "--workers",
        str(workers),
        *extra_args,
        "wsgi:app",
    ]
    with open(log, "wb") as log_file:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env=app_environment(database, **config),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        port = _wait_for_workers(server, log, workers)
        yield Gunicorn(f"http://127.0.0.1:{port}", port, log)
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_for_workers(server: subprocess.Popen, log: Path, workers: int) -> int:
    """The port gunicorn listens on, once every worker has loaded the app and answers."""
    give_up = time.monotonic() + STARTUP_SECONDS
    port = None
    while time.monotonic() < give_up:
        text = log.read_text(encoding="utf-8", errors="replace")
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{text}")
        if port is None and (found := _LISTENING.search(text)):
            port = int(found[1])
        if port is not None and text.count("Worker ready") >= workers and _answers(port):
            return port
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not come up in {STARTUP_SECONDS:.0f} s:\n{text}")


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/wechat", timeout=5).status_code == 403
    except requests.RequestException:
        return False
