"""``/api/ask`` end-to-end latency on the shipped knowledge base, over real HTTP on loopback.

Run from the project root::

    python -m bench.bench_api                     # 500 requests through gunicorn (gthread)
    python -m bench.bench_api --server werkzeug --requests 50 --json bench/results/api.json

The app runs as deployed (``wsgi:app`` under gunicorn, one worker with two threads, on a
fresh temporary database seeded with the shipped entries) or, with ``--server werkzeug``,
in werkzeug's threaded server in this process. One client sends the requests one after
another over a keep-alive session (requests.Session); gunicorn keeps the connection open,
werkzeug closes it after every response by design (the output counts closed connections). The baseline, measured in
the same run on the same server stack with the same bodies, is a Flask app that answers a
constant (bench/trivial_app.py): the difference is Pufa's own work per request.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from bench.common import (
    ROOT,
    Target,
    machine,
    machine_line,
    python,
    subprocess_env,
    summary_ms,
    write_json,
)
from bench.knowledge_base import add_labeled_argument, load_queries_or_report, shipped_knowledge

P99_TARGET_MS = 20.0
STARTUP_TIMEOUT_S = 60.0
#: One client sends every request: rate limits as high as they go, still counted (their
#: write is part of each request's cost), never refusing.
UNLIMITED = {"RATE_LIMIT_PER_MINUTE": 10**9, "RATE_LIMIT_PER_ADDRESS_PER_MINUTE": 10**9}


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without its per-request log line."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Skip werkzeug's access log: the benchmark prints its own figures."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(port: int, server: subprocess.Popen | None, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the server did not listen on port {port} in {STARTUP_TIMEOUT_S:.0f} s")


@contextlib.contextmanager
def gunicorn_server(app_spec: str, env: dict[str, str], workdir: Path) -> Iterator[str]:
    """Serve ``app_spec`` with gunicorn (1 worker, 2 threads) and yield its base URL."""
    port = _free_port()
    log = workdir / f"gunicorn-{port}.log"
    command = [
        python(),
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        "2",
        app_spec,
    ]
    with open(log, "wb") as log_file:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_file, stderr=log_file)
    try:
        _wait_until_listening(port, server, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextlib.contextmanager
def werkzeug_server(app: Any) -> Iterator[str]:
    """Serve ``app`` with werkzeug's threaded server in a thread and yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_client(base_url: str, texts: list[str], warm_up: int) -> dict[str, Any]:
    """POST every text to ``/api/ask`` in turn over one keep-alive session; time each."""
    url = f"{base_url}/api/ask"
    timings: list[float] = []
    kinds: Counter[str] = Counter()
    closed = 0
    with requests.Session() as session:
        for position, text in enumerate(texts[:warm_up]):
            warm = session.post(url, json={"text": text, "user": f"warm-{position}"}, timeout=60)
            warm.raise_for_status()
        for position, text in enumerate(texts):
            body = {"text": text, "user": f"bench-{position % 50}"}
            start = time.perf_counter_ns()
            response = session.post(url, json=body, timeout=60)
            timings.append((time.perf_counter_ns() - start) / 1e6)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}: {response.text[:200]}")
            kinds[response.json()["kind"]] += 1
            closed += response.headers.get("Connection", "").lower() == "close"
    return {"ms": summary_ms(timings), "kinds": dict(kinds), "connections_closed": closed}


def measure(server: str, texts: list[str], warm_up: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pufa's and the trivial app's figures, one after the other on the same server stack."""
    with tempfile.TemporaryDirectory(prefix="pufa-bench-api-") as folder:
        workdir = Path(folder)
        database = workdir / "pufa.sqlite3"
        if server == "gunicorn":
            env = {**subprocess_env(), "PUFA_DATABASE": str(database)}
            env.update({f"PUFA_{key}": str(value) for key, value in UNLIMITED.items()})
            with gunicorn_server("wsgi:app", env, workdir) as url:
                pufa = run_client(url, texts, warm_up)
            with gunicorn_server("bench.trivial_app:app", env, workdir) as url:
                trivial = run_client(url, texts, warm_up)
        else:
            from bench.trivial_app import create_trivial_app
            from bot import create_app

            with werkzeug_server(create_app({"DATABASE": str(database), **UNLIMITED})) as url:
                pufa = run_client(url, texts, warm_up)
            with werkzeug_server(create_trivial_app()) as url:
                trivial = run_client(url, texts, warm_up)
    return pufa, trivial


def _gunicorn_available() -> bool:
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the API benchmark and print (and optionally save) its figures."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500, help="timed requests per app")
    parser.add_argument("--warm-up", type=int, default=20, help="untimed requests first")
    parser.add_argument(
        "--server",
        choices=("gunicorn", "werkzeug"),
        default="gunicorn" if _gunicorn_available() else "werkzeug",
    )
    add_labeled_argument(parser)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.warm_up < 0:
        parser.error("--requests must be positive and --warm-up not negative")

    info = machine()
    shipped, _synonyms = shipped_knowledge()
    loaded = load_queries_or_report(shipped, args.labeled)
    if loaded is None:
        return 2
    queries, source, _unresolved = loaded
    texts = [queries[position % len(queries)].text for position in range(args.requests)]
    stack = (
        "gunicorn gthread, 1 worker x 2 threads"
        if args.server == "gunicorn"
        else "werkzeug threaded server (in process)"
    )
    print(f"Pufa /api/ask benchmark — {machine_line(info)}")
    print(f"server: {stack}; client: requests.Session, one keep-alive connection, sequential")
    print(f"questions: {source}; {args.requests} timed requests after {args.warm_up} warm-up")
    pufa, trivial = measure(args.server, texts, args.warm_up)
    for label, figures in (("Pufa /api/ask", pufa), ("trivial JSON app", trivial)):
        ms = figures["ms"]
        print(
            f"  {label:<17} p50 {ms['p50']:7.3f}  p95 {ms['p95']:7.3f}  p99 {ms['p99']:7.3f}  "
            f"mean {ms['mean']:7.3f}  max {ms['max']:7.3f} ms  "
            f"(connections closed by server: {figures['connections_closed']})"
        )
    print(f"  Pufa replies by kind: {pufa['kinds']}")
    ratio_p50 = pufa["ms"]["p50"] / trivial["ms"]["p50"]
    ratio_p99 = pufa["ms"]["p99"] / trivial["ms"]["p99"]
    own_work = pufa["ms"]["mean"] - trivial["ms"]["mean"]
    print(
        f"  Pufa / trivial: {ratio_p50:.1f}x at p50, {ratio_p99:.1f}x at p99; "
        f"Pufa's own work ≈ {own_work:.2f} ms per request on average"
    )
    check = Target(
        "/api/ask end-to-end p99 on the shipped KB",
        f"{pufa['ms']['p99']:.2f} ms",
        f"<= {P99_TARGET_MS:.0f} ms",
        pufa["ms"]["p99"] <= P99_TARGET_MS,
    )
    print("\nTargets (issue 3, Speed):")
    print(check.line())
    write_json(
        args.json,
        {
            "benchmark": "api",
            "machine": info,
            "server": stack,
            "questions": source,
            "requests": args.requests,
            "pufa": pufa,
            "trivial": trivial,
            "ratio_p50": ratio_p50,
            "ratio_p99": ratio_p99,
            "targets": [check.as_dict()],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
