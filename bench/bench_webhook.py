"""The WeChat webhook under load: signed messages from many residents, through gunicorn.

Run from the project root::

    python -m bench.bench_webhook                        # ~3 minutes
    python -m bench.bench_webhook --seconds 3 --long-seconds 5 --json bench/results/wh.json

Pufa (``wsgi:app``) and the floor (``bench.trivial_app:app``, bare Flask returning fixed
XML) are served one after the other in the same run by gunicorn with the shipped
``gunicorn.conf.py`` (4 gthread workers × 8 threads, no keep-alive), only the port
changed, on a fresh temporary database seeded with the shipped entries. Clients (in
separate processes, so that the client's own Python does not serialise on one GIL) send
plaintext-mode messages signed as WeChat signs them, each from the next of
``--residents`` residents, with the next question of the labeled set
(tests/eval/questions.jsonl), a new connection per request as the shipped config wants.
Each phase runs for a fixed time: 1 and 4 clients (``--seconds``), then 16 clients
(``--long-seconds``, 30 s by default), for which holding replies and errors are counted.
Last, ``--duplicates`` messages are each sent three times at once (WeChat's retries
racing across workers): each must be processed once (one record, one turn) and get one
reply.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import os
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.common import ROOT, Target, machine, machine_line, python, subprocess_env, write_json

TOKEN = "bench-token"
ACCOUNT = "gh_0123456789ab"
QUESTIONS = ROOT / "tests" / "eval" / "questions.jsonl"
#: What a resident reads when Pufa answers late (bot.wechat.reply); counted, never expected.
HOLDING_TEXTS = ("系统正忙，请稍后再发一次您的问题。", "问题已收到，正在查询，答复稍后发给您。")
CONTENT = re.compile(rb"<Content><!\[CDATA\[(.*?)\]\]></Content>", re.DOTALL)
STARTUP_TIMEOUT_S = 90.0
#: Issue 16's targets, against the floor measured in the same run.
THROUGHPUT_RATIO = 0.5
P99_RATIO = 3.0


def load_questions() -> list[str]:
    """The labeled questions' texts, in file order."""
    import json

    with QUESTIONS.open(encoding="utf-8") as lines:
        return [json.loads(line)["text"] for line in lines if line.strip()]


def message_xml(resident: str, text: str, msg_id: int) -> bytes:
    """A resident's text message as WeChat posts it."""
    return (
        f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
        f"<FromUserName><![CDATA[{resident}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def signed_path() -> str:
    """``/wechat`` with a fresh timestamp, nonce and WeChat's plain-mode signature."""
    timestamp = str(int(time.time()))
    nonce = str(secrets.randbelow(10**9))
    signature = hashlib.sha1("".join(sorted((TOKEN, timestamp, nonce))).encode()).hexdigest()
    return f"/wechat?timestamp={timestamp}&nonce={nonce}&signature={signature}"


def post(port: int, body: bytes) -> tuple[int, bytes]:
    """POST ``body`` to /wechat on a new connection; the status and the reply body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", signed_path(), body, {"Content-Type": "text/xml"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def client_process(
    port: int, threads: int, seconds: float, residents: int, offset: int, questions: list[str]
) -> dict[str, Any]:
    """``threads`` clients sending messages for ``seconds``; latencies and counts."""
    stop_at = time.monotonic() + seconds
    base = secrets.randbits(40) << 20
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def one_client(number: int) -> None:
        latencies: list[float] = []
        holding = errors = 0
        sent = 0
        while time.monotonic() < stop_at:
            n = offset + number * 1_000_003 + sent
            resident = f"oBENCH_resident_{n % residents:012d}"
            body = message_xml(
                resident, questions[n % len(questions)], base + number * 10**6 + sent
            )
            sent += 1
            started = time.perf_counter()
            try:
                status, reply = post(port, body)
            except OSError:
                errors += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                errors += 1
                continue
            if _content(reply).decode() in HOLDING_TEXTS:
                holding += 1
        with lock:
            results.append({"latencies": latencies, "holding": holding, "errors": errors})

    with ThreadPoolExecutor(threads) as pool:
        for number in range(threads):
            pool.submit(one_client, number)
    return {
        "latencies": [ms for result in results for ms in result["latencies"]],
        "holding": sum(result["holding"] for result in results),
        "errors": sum(result["errors"] for result in results),
    }


def run_phase(
    port: int, clients: int, seconds: float, residents: int, questions: list[str]
) -> dict[str, Any]:
    """``clients`` concurrent clients for ``seconds``: throughput, p50/p99, holding, errors."""
    processes = min(clients, 4)
    per_process = [clients // processes + (i < clients % processes) for i in range(processes)]
    started = time.monotonic()
    with ProcessPoolExecutor(processes) as pool:
        futures = [
            pool.submit(client_process, port, threads, seconds, residents, i * 7919, questions)
            for i, threads in enumerate(per_process)
        ]
        parts = [future.result() for future in futures]
    elapsed = time.monotonic() - started
    latencies = sorted(ms for part in parts for ms in part["latencies"])
    if not latencies:
        raise RuntimeError(f"no request completed with {clients} clients")
    return {
        "clients": clients,
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "per_second": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2],
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "holding": sum(part["holding"] for part in parts),
        "errors": sum(part["errors"] for part in parts),
    }


def duplicates_once(port: int, database: Path, count: int, questions: list[str]) -> dict[str, Any]:
    """Send ``count`` messages three times each at once; how many were processed once."""
    turns_before = _count(database, "SELECT count(*) FROM turns")
    base = secrets.randbits(40) << 20
    same_reply = 0
    failed = 0

    def triple(n: int) -> None:
        nonlocal same_reply, failed
        body = message_xml(f"oBENCH_duplicate_{n:08d}", questions[n % len(questions)], base + n)
        barrier = threading.Barrier(3)

        def send() -> tuple[int, bytes]:
            barrier.wait()
            return post(port, body)

        with ThreadPoolExecutor(3) as pool:
            replies = list(pool.map(lambda _: send(), range(3)))
        if any(status != 200 for status, _ in replies):
            failed += 1
        elif len({_content(reply) for _, reply in replies}) == 1:
            same_reply += 1

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(triple, range(count)))
    records = _count(
        database,
        "SELECT count(*) FROM processed_messages WHERE key LIKE 'msg:%' AND reply IS NOT NULL",
    )
    return {
        "messages": count,
        "sent": count * 3,
        "same_reply_all_three": same_reply,
        "errors": failed,
        "turns_added": _count(database, "SELECT count(*) FROM turns") - turns_before,
        "answered_records": records,
    }


def _content(reply: bytes) -> bytes:
    """The text of a passive reply (its CreateTime differs between the three)."""
    found = CONTENT.search(reply)
    return found.group(1) if found else reply


def _count(database: Path, sql: str) -> int:
    with contextlib.closing(sqlite3.connect(database, timeout=10)) as conn:
        return conn.execute(sql).fetchone()[0]


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def served(app_spec: str, env: dict[str, str], workdir: Path) -> Iterator[int]:
    """Serve ``app_spec`` with the shipped gunicorn.conf.py on a free port; yield the port."""
    port = _free_port()
    log = workdir / f"gunicorn-{port}.log"
    command = [python(), "-m", "gunicorn", "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}"]
    with open(log, "wb") as log_file:
        server = subprocess.Popen(
            [*command, app_spec], cwd=ROOT, env=env, stdout=log_file, stderr=log_file
        )
    try:
        _wait_for_workers(server, log, port)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_for_workers(server: subprocess.Popen, log: Path, port: int) -> None:
    """Wait until every worker has booted (and, for Pufa, built its index) and answers."""
    workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
    give_up = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < give_up:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{log.read_text(errors='replace')}")
        booted = log.read_text(errors="replace").count("Booting worker")
        if booted >= workers:
            with contextlib.suppress(OSError):
                status, _reply = post(port, message_xml("oBENCH_warm", "你好", 1))
                if status == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer in {STARTUP_TIMEOUT_S:.0f} s")


def measure(
    app_spec: str,
    env: dict[str, str],
    workdir: Path,
    args: argparse.Namespace,
    questions: list[str],
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The phases at 1, 4 and 16 clients for one app, then (Pufa only) the duplicates."""
    with served(app_spec, env, workdir) as port:
        run_phase(port, 4, args.warm_up, args.residents, questions)  # untimed warm-up
        phases = [
            run_phase(port, clients, seconds, args.residents, questions)
            for clients, seconds in ((1, args.seconds), (4, args.seconds), (16, args.long_seconds))
        ]
        duplicates = None
        if app_spec == "wsgi:app" and args.duplicates:
            duplicates = duplicates_once(
                port, Path(env["PUFA_DATABASE"]), args.duplicates, questions
            )
    return phases, duplicates


def load_line() -> str:
    """``uptime``'s load averages, to print with the figures."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def main(argv: list[str] | None = None) -> int:
    """Run the webhook benchmark against the floor and print (and optionally save) it."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="1- and 4-client phases")
    parser.add_argument("--long-seconds", type=float, default=30.0, help="16-client phase")
    parser.add_argument("--warm-up", type=float, default=2.0, help="untimed seconds first")
    parser.add_argument("--residents", type=int, default=5000, help="distinct senders")
    parser.add_argument("--duplicates", type=int, default=200, help="messages sent 3x at once")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if min(args.seconds, args.long_seconds) <= 0 or args.residents < 1 or args.duplicates < 0:
        parser.error("phases need positive seconds, at least one resident")

    info = machine()
    questions = load_questions()
    print(f"Pufa webhook benchmark — {machine_line(info)}")
    print(f"before: {load_line()}")
    print(
        "server: gunicorn -c gunicorn.conf.py (shipped: 4 gthread workers × 8 threads, "
        "no keep-alive); client: separate processes, a new connection per request"
    )
    print(
        f"messages: plaintext mode, signed; {args.residents} residents in turn; "
        f"{len(questions)} questions from {QUESTIONS.relative_to(ROOT)}"
    )
    with tempfile.TemporaryDirectory(prefix="pufa-bench-webhook-") as folder:
        workdir = Path(folder)
        env = {
            **subprocess_env(),
            "PUFA_DATABASE": str(workdir / "pufa.sqlite3"),
            "PUFA_WECHAT_TOKEN": TOKEN,
            "PUFA_SECRET_KEY": "bench-secret",
        }
        pufa, duplicates = measure("wsgi:app", env, workdir, args, questions)
        floor, _none = measure("bench.trivial_app:app", env, workdir, args, questions)
    print(f"after: {load_line()}")
    print(
        f"\n{'clients':>7} {'':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'holding':>8} {'errors':>7} {'requests':>9}"
    )
    for mine, base in zip(pufa, floor, strict=True):
        for label, figures in (("Pufa", mine), ("floor", base)):
            print(
                f"{figures['clients']:>7} {label:>6} {figures['per_second']:>8.0f} "
                f"{figures['p50_ms']:>8.1f} {figures['p99_ms']:>8.1f} "
                f"{figures['holding']:>8} {figures['errors']:>7} {figures['requests']:>9}"
            )
    targets = []
    for mine, base in zip(pufa, floor, strict=True):
        ratio = mine["per_second"] / base["per_second"]
        targets.append(
            Target(
                f"throughput at {mine['clients']} clients vs the floor",
                f"{mine['per_second']:.0f}/{base['per_second']:.0f} = {ratio:.0%}",
                f">= {THROUGHPUT_RATIO:.0%}",
                ratio >= THROUGHPUT_RATIO,
            )
        )
    four, four_floor = pufa[1], floor[1]
    p99_ratio = four["p99_ms"] / four_floor["p99_ms"]
    targets.append(
        Target(
            "p99 at 4 clients vs the floor",
            f"{four['p99_ms']:.1f}/{four_floor['p99_ms']:.1f} ms = {p99_ratio:.1f}x",
            f"<= {P99_RATIO:.0f}x",
            p99_ratio <= P99_RATIO,
        )
    )
    sixteen, sixteen_floor = pufa[2], floor[2]
    for what in ("holding", "errors"):
        targets.append(
            Target(
                f"{what} at 16 clients for {args.long_seconds:.0f} s (floor {sixteen_floor[what]})",
                f"{sixteen[what]} of {sixteen['requests']}",
                "0",
                sixteen[what] == 0,
            )
        )
    if duplicates is not None:
        once = (
            duplicates["turns_added"] == duplicates["messages"]
            and duplicates["same_reply_all_three"] == duplicates["messages"]
        )
        print(f"\nduplicates: {duplicates}")
        targets.append(
            Target(
                "each duplicated MsgId processed once",
                f"{duplicates['turns_added']} turns, {duplicates['same_reply_all_three']} same"
                f" / {duplicates['messages']}",
                "all",
                once,
            )
        )
    print("\nTargets (issue 16 §1):")
    for target in targets:
        print(target.line())
    write_json(
        args.json,
        {
            "benchmark": "webhook",
            "machine": info,
            "load_after": os.getloadavg(),
            "pufa": pufa,
            "floor": floor,
            "duplicates": duplicates,
            "targets": [target.as_dict() for target in targets],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
