"""The shipped gunicorn.conf.py under a locked database and slow clients: real processes.

gunicorn runs ``wsgi:app`` with the repository's configuration on 127.0.0.1 (a port the
kernel picks); another process holds the database's write lock; raw sockets trickle in
partial requests. The webhook must keep answering within its one-second budget.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from itertools import count
from pathlib import Path

import pytest

from bot.wechat.reply import HOLDING_TEXT
from tests.conftest import TEST_CONFIG
from tests.http_support import Gunicorn, LoopbackClient, gunicorn_server
from tests.webhook_support import WeChatSender, text_message

LOCK_SECONDS = 3.0
WEBHOOK_BUDGET = 1.0
_residents = count(1)
#: One nonce sequence for every sender here: a plain-mode (timestamp, nonce, signature)
#: seen with another body is refused as a replay.
_nonces = count(500_000)


@pytest.fixture
def server(database_path: Path) -> Iterator[Gunicorn]:
    """gunicorn as shipped (2 workers here), API rate limits out of the way of the test."""
    with gunicorn_server(
        database_path, RATE_LIMIT_PER_MINUTE=0, RATE_LIMIT_PER_ADDRESS_PER_MINUTE=0
    ) as running:
        yield running


def wechat(base_url: str) -> WeChatSender:
    """A WeChat sender over its own keep-alive connection to ``base_url``."""
    return WeChatSender(
        LoopbackClient(base_url, timeout=4),  # type: ignore[arg-type]
        TEST_CONFIG["WECHAT_TOKEN"],
        TEST_CONFIG["WECHAT_AES_KEY"],
        TEST_CONFIG["WECHAT_APP_ID"],
        nonces=_nonces,
    )


def timed_webhook(base_url: str, text: str = "离婚冷静期多久") -> tuple[float, str]:
    """Seconds a new resident's message took to answer, and the reply text."""
    sender = wechat(base_url)
    started = time.monotonic()
    reply = sender.exchange("plain", text_message(text, user=f"oRESIDENT_{next(_residents):06d}"))
    return time.monotonic() - started, reply["Content"]


@contextmanager
def write_lock_held(database: Path, seconds: float) -> Iterator[subprocess.Popen]:
    """Another process holding BEGIN IMMEDIATE on ``database`` for ``seconds``."""
    script = (
        "import sqlite3, sys, time\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('BEGIN IMMEDIATE')\n"
        "print('locked', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "conn.execute('ROLLBACK')\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(database), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.wait(seconds + 10)
        if holder.stdout is not None:
            holder.stdout.close()


def test_a_locked_database_gets_503_fast_and_never_delays_the_webhook(
    server: Gunicorn, database_path: Path
) -> None:
    assert timed_webhook(server.base_url)[1] != HOLDING_TEXT  # warm, and answering

    def api_until(end: float, caller: int) -> list[tuple[float, int, dict, str | None]]:
        client = LoopbackClient(server.base_url)
        seen = []
        for n in range(50):
            if time.monotonic() >= end:
                break
            started = time.monotonic()
            response = client.post(
                "/api/ask", json={"text": "离婚冷静期多久", "user": f"a{caller}-{n}"}
            )
            seen.append(
                (
                    time.monotonic() - started,
                    response.status_code,
                    response.get_json(),
                    response.headers.get("Retry-After"),
                )
            )
        return seen

    def webhooks(start: float) -> list[tuple[float, str]]:
        replies = []
        for n in range(5):
            time.sleep(max(0.0, start + n * 0.45 - time.monotonic()))
            replies.append(timed_webhook(server.base_url, "请问火星上今天的天气怎么样呀"))
        return replies

    with write_lock_held(database_path, LOCK_SECONDS), ThreadPoolExecutor(16) as pool:
        locked_at = time.monotonic()
        end = locked_at + LOCK_SECONDS - 1.2  # the last API request starts inside the lock
        api_calls = [pool.submit(api_until, end, caller) for caller in range(10)]
        hooks = [pool.submit(webhooks, locked_at + 0.07 * n) for n in range(6)]
        api_seen = [seen for call in api_calls for seen in call.result()]
        hook_seen = [seen for hook in hooks for seen in hook.result()]

    assert len(hook_seen) == 30
    print(
        f"during a {LOCK_SECONDS:.0f}-s lock: {len(api_seen)} API requests, slowest "
        f"{max(s for s, *_ in api_seen):.2f} s; {len(hook_seen)} webhook replies, slowest "
        f"{max(s for s, _ in hook_seen):.2f} s"
    )
    slow_hooks = [round(seconds, 2) for seconds, _ in hook_seen if seconds > WEBHOOK_BUDGET]
    assert slow_hooks == [], f"webhook replies over {WEBHOOK_BUDGET} s during the lock"
    assert all(reply for _, reply in hook_seen)
    assert api_seen
    for seconds, status, body, retry_after in api_seen:
        assert status == 503, body
        assert body == {"error": "服务繁忙，请稍后再试", "status": 503}
        assert retry_after is not None and int(retry_after) > 0
        assert seconds <= 1.5
    assert "Traceback" not in server.log_text()
    # The lock gone, both doors answer again.
    assert (
        LoopbackClient(server.base_url).post("/api/ask", json={"text": "你好"}).status_code == 200
    )
    assert timed_webhook(server.base_url)[1] != HOLDING_TEXT


def slow_client(port: int, partial: bytes) -> socket.socket:
    """A connection that sent ``partial`` of a request and then goes quiet."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(partial)
    return sock


def test_slow_clients_do_not_keep_the_webhook_from_answering(server: Gunicorn) -> None:
    partial_body = (
        b"POST /wechat?timestamp=1&nonce=1&signature=x HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: text/xml\r\nContent-Length: 4000\r\n\r\n<xml><ToUserName>"
    )
    partial_headers = b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le"
    timings = []
    # Ten stalled clients, more than one worker has threads, in a few rounds: however the
    # kernel spreads them over the workers, the webhook still gets a thread.
    for _round in range(3):
        with ExitStack() as stack:
            for partial in [partial_body] * 6 + [partial_headers] * 4:
                stack.callback(slow_client(server.port, partial).close)
            time.sleep(0.5)  # the server has taken them all on
            timings += [timed_webhook(server.base_url) for _ in range(4)]
            api = LoopbackClient(server.base_url, timeout=4).post("/api/ask", json={"text": "你好"})
            assert api.status_code == 200
    print(f"beside 10 slow clients: webhook replies in {[round(s, 3) for s, _ in timings]} s")
    for seconds, reply in timings:
        assert reply != HOLDING_TEXT and "冷静期" in reply
        assert seconds < WEBHOOK_BUDGET, f"webhook took {seconds:.2f} s beside slow clients"
