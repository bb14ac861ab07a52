"""A WeChat message costs one write: traced at the SQLite level, and crash-safe.

Every connection the process opens is traced (``sqlite3.connect`` wrapped to install a
trace callback on the real connection). After a warm-up, each message must run exactly
one ``BEGIN IMMEDIATE`` … ``COMMIT``, open no connection and run no DDL, purge or
savepoint. A real process killed inside that write leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlite_utils import Database

from bot.wechat.dedup import stored_reply
from bot.wechat.reply import HOLDING_TEXT, answer_pool
from knowledge.db import connect, get_db, write
from tests.webhook_support import WeChatSender, eval_questions, message_dedup_key, text_message

ROOT = Path(__file__).resolve().parent.parent
#: Statements that would change the schema (and every other connection's statement cache).
DDL = re.compile(r"^\s*(CREATE|DROP|ALTER)\b", re.IGNORECASE)


class Trace:
    """What every traced connection ran, and how many connections were opened."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statements: list[str] = []
        #: The databases connections were opened to, in order (other tests' purge timers
        #: may still be opening theirs: count this test's database only).
        self.opened_to: list[str] = []

    def statement(self, sql: str) -> None:
        with self.lock:
            self.statements.append(sql)

    def reset(self) -> None:
        with self.lock:
            self.statements.clear()
            self.opened_to.clear()

    def opened(self, database: Path) -> int:
        """How many connections were opened to ``database`` since the last reset."""
        with self.lock:
            return self.opened_to.count(str(database))

    def kinds(self) -> Counter[str]:
        """How many statements began with each first word (BEGIN IMMEDIATE counted apart)."""
        with self.lock:
            statements = list(self.statements)
        counts: Counter[str] = Counter()
        for sql in statements:
            words = sql.split()
            first = " ".join(words[:2]).upper() if sql.upper().startswith("BEGIN") else words[0]
            counts[first.upper()] += 1
        return counts

    def write_savepoints(self) -> list[str]:
        """Savepoints other than sqlite-utils' read-only one around ``query()``."""
        with self.lock:
            return [
                sql
                for sql in self.statements
                if sql.startswith("SAVEPOINT") and sql != 'SAVEPOINT "sqlite_utils_query"'
            ]

    def ddl(self) -> list[str]:
        with self.lock:
            return [sql for sql in self.statements if DDL.match(sql)]


@pytest.fixture
def trace(monkeypatch: pytest.MonkeyPatch, database_path: Path) -> Iterator[Trace]:
    """Trace every SQLite connection to this test's database opened from now on."""
    seen = Trace()
    traced_database = str(database_path)
    real_connect = sqlite3.connect

    def traced_connect(*args, **kwargs) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs)
        database = str(args[0] if args else kwargs["database"])
        with seen.lock:
            seen.opened_to.append(database)
        if database == traced_database:
            conn.set_trace_callback(seen.statement)
        return conn

    monkeypatch.setattr(sqlite3, "connect", traced_connect)
    yield seen


def send_from_many(sender: WeChatSender, texts: list[str], first_msg_id: int) -> list[str]:
    """Each text from its own resident; the replies' contents."""
    replies = []
    for n, text in enumerate(texts):
        user = f"oTRACE_resident_{first_msg_id + n:012d}"
        reply = sender.exchange("plain", text_message(text, msg_id=first_msg_id + n, user=user))
        replies.append(reply["Content"] if isinstance(reply, dict) else reply)
    return replies


def open_every_answer_thread(app: Flask) -> None:
    """Have each of the answer pool's threads open its connection to ``app``'s database."""
    threads = app.config["WECHAT_ANSWER_THREADS"]
    all_busy = threading.Barrier(threads)

    def open_connection() -> None:
        with app.app_context():
            get_db()
        all_busy.wait(timeout=10)  # every thread holds one task: each opens its own

    for opened in [answer_pool(threads).submit(open_connection) for _ in range(threads)]:
        opened.result(timeout=20)


def test_a_message_costs_one_write_and_no_connection(
    app: Flask, sender: WeChatSender, trace: Trace, database_path: Path
):
    asked = eval_questions(60)
    # Warm up: the request thread and the answer pool's threads open their connections.
    open_every_answer_thread(app)
    send_from_many(sender, asked[:20], 8_100_000)
    trace.reset()
    replies = send_from_many(sender, asked[20:], 8_200_000)
    kinds = trace.kinds()
    messages = len(replies)
    assert HOLDING_TEXT not in replies
    assert trace.opened(database_path) == 0, "a connection opened per message"
    assert kinds["BEGIN IMMEDIATE"] == messages, kinds
    assert kinds["COMMIT"] == messages, kinds
    assert kinds["BEGIN"] == 0, "a deferred write transaction"
    assert trace.ddl() == []
    assert kinds["DELETE"] == 0, "a purge on the message path"
    assert kinds["ROLLBACK"] == 0, kinds
    assert trace.write_savepoints() == []


def test_an_api_question_costs_one_write_refused_or_not(
    app: Flask, trace: Trace, database_path: Path
):
    client = app.test_client()
    limit = app.config["RATE_LIMIT_PER_ADDRESS_PER_MINUTE"]
    asked = eval_questions(limit + 1)
    for n, text in enumerate(asked[:5]):
        assert client.post("/api/ask", json={"text": text, "user": f"w{n}"}).status_code == 200
    trace.reset()
    for n, text in enumerate(asked[5:limit]):
        assert client.post("/api/ask", json={"text": text, "user": f"u{n}"}).status_code == 200
    kinds = trace.kinds()
    assert trace.opened(database_path) == 0
    assert kinds["BEGIN IMMEDIATE"] == kinds["COMMIT"] == limit - 5, kinds
    assert trace.ddl() == []
    assert kinds["DELETE"] == 0 and trace.write_savepoints() == [], kinds
    trace.reset()
    assert client.post("/api/ask", json={"text": asked[limit]}).status_code == 429
    assert trace.kinds()["BEGIN IMMEDIATE"] == 1  # the refusal is counted, in one write


#: Decides a message in a real app, then dies (SIGKILL) inside the message's one write,
#: after the dedup row, the counters, the state and the turn are written, before COMMIT.
DIES_IN_ITS_WRITE = """
import sys, time
from bot import create_app
from bot.dialogue import Incoming
from bot.responder import decide, record
from bot.wechat.dedup import record_answer
from knowledge.db import connect, get_db, write
database, secret, key, user, text = sys.argv[1:6]
app = create_app({"TESTING": True, "DATABASE": database, "SECRET_KEY": secret})

def die_before_commit(db, outcome):
    record_answer(db, key, "doomed", outcome.text)
    print("writing", flush=True)
    time.sleep(60)

with app.app_context():
    record(get_db(), decide(Incoming(user=user, text=text)), also=die_before_commit)
"""


def rows_about(db: Database, text: str) -> dict[str, int]:
    return {
        "turns": db.execute("SELECT count(*) FROM turns WHERE text = ?", [text]).fetchone()[0],
        "counters": db["rate_counters"].count,
        "states": db["conversations"].count,
        "records": db["processed_messages"].count,
    }


def test_a_worker_killed_inside_its_write_leaves_nothing(
    app: Flask, sender: WeChatSender, database_path: Path, db: Database
):
    text = "他打了我怎么办"  # a question with choices: state, a turn and counters to write
    key = message_dedup_key(8_300_001)
    before = rows_about(db, text)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            DIES_IN_ITS_WRITE,
            str(database_path),
            app.config["SECRET_KEY"],
            key,
            "oRESIDENT_openid_0000000001",
            text,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout.readline().strip() == "writing"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(10)
        worker.stdout.close()
    assert worker.returncode == -signal.SIGKILL
    assert rows_about(db, text) == before
    assert stored_reply(db, key) is None

    # WeChat's retry processes it afresh, once.
    reply = sender.exchange("plain", text_message(text, msg_id=8_300_001))["Content"]
    assert reply not in (HOLDING_TEXT, "")
    assert stored_reply(db, key) == reply
    assert rows_about(db, text)["turns"] == before["turns"] + 1


def test_a_thread_keeps_its_connection_and_its_busy_timeout(app: Flask, caplog):
    client = app.test_client()
    with app.app_context():
        kept = get_db()
    assert client.post("/api/ask", json={"text": "离婚冷静期多久"}).status_code == 200
    with app.app_context():
        assert get_db() is kept
        # /api/ask waits API_BUSY_TIMEOUT for the lock; the next request waits as configured.
        (waits,) = kept.conn.execute("PRAGMA busy_timeout").fetchone()
        assert waits == int(app.config["DATABASE_BUSY_TIMEOUT"] * 1000)
        kept.conn.execute("BEGIN")  # a request that forgets its transaction …
    assert not kept.conn.in_transaction  # … has it rolled back at teardown, logged
    assert "left a transaction open" in caplog.text


def test_writers_of_one_process_take_turns_instead_of_timing_out(tmp_path: Path):
    """Two dozen threads writing at once, each for a millisecond, with a one-second busy
    timeout: SQLite's polling alone starved some of them; in turn, none fails. (A quarter
    second was too little for a loaded 2-core CI machine even in turn.)"""
    database = tmp_path / "turns.sqlite3"
    setup = connect(database)
    setup.execute("PRAGMA journal_mode = wal")
    setup.execute("CREATE TABLE hits (thread INTEGER, n INTEGER)")
    threads, writes = 24, 15
    failures: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(number: int) -> None:
        db = connect(database, busy_timeout=1.0)
        start.wait()
        for n in range(writes):
            try:
                with write(db):
                    db.execute("INSERT INTO hits VALUES (?, ?)", [number, n])
                    time.sleep(0.001)  # a message's write holds the lock about this long
            except sqlite3.OperationalError as error:
                failures.append(error)
        db.close()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert failures == []
    assert setup.execute("SELECT count(*) FROM hits").fetchone()[0] == threads * writes
    setup.close()
