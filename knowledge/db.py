"""The SQLite database: connections, the write discipline and the Flask glue.

Every connection runs in autocommit mode (``isolation_level=None``) so that reads
never hold a transaction, and every write goes through :func:`write`, which opens
``BEGIN IMMEDIATE``: two processes that read-then-write never deadlock on the lock
upgrade, they queue on the busy timeout instead. SQLite's busy handler polls with growing
sleeps (up to 100 ms) and favours whoever asks at the right moment, so among the dozens
of threads of a gunicorn worker a writer could lose every round and time out while the
lock was free most of the time. Writers of one process therefore queue on a lock of the
process first (:func:`write`), and only one thread per process polls the database's.

The app's connections are one per thread (:func:`get_db`), opened on a thread's first
use and kept for its next requests: closing the last connection of a WAL database
checkpoints it (milliseconds a request), and each new sqlite-utils ``Database`` probes
upsert support by creating and dropping a table, a schema change that invalidates every
other connection's prepared statements. A request's teardown only rolls back a
transaction left open by mistake; gunicorn's threads live as long as their worker.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

log = logging.getLogger(__name__)

_per_thread = threading.local()
#: Database file → the lock this process's writers queue on (see the module docstring).
_writers: dict[str, threading.Lock] = {}


class Connection(sqlite3.Connection):
    """A connection that knows its file and its busy timeout, for the writers' queue."""

    path: str = ":memory:"
    busy_seconds: float = 5.0


def connect(path: str | Path, busy_timeout: float = 5.0) -> Database:
    """Open the database at ``path`` in autocommit mode with a busy timeout in seconds.

    Foreign keys are enforced and ``secure_delete`` is on, so deleted content is zeroed.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path),
        isolation_level=None,
        timeout=busy_timeout,
        check_same_thread=False,
        factory=Connection,
    )
    conn.path = str(path)
    conn.busy_seconds = busy_timeout
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    # Deleted rows (a resident's forgotten texts) are overwritten, whatever the SQLite build.
    conn.execute("PRAGMA secure_delete = ON")
    return Database(conn, execute_plugins=False)


@contextmanager
def _begin_in_turn(conn: sqlite3.Connection) -> Iterator[None]:
    """Wait for this process's other writers to the same file, then begin the transaction:
    both waits together at most the connection's busy timeout.

    Raises ``sqlite3.OperationalError`` ("database is locked", SQLITE_BUSY) past it, as
    SQLite would.
    """
    path = getattr(conn, "path", ":memory:")
    if path == ":memory:":
        conn.execute("BEGIN IMMEDIATE")
        yield
        return
    budget = max(0.0, conn.busy_seconds)  # type: ignore[attr-defined]
    started = time.monotonic()
    turn = _writers.setdefault(path, threading.Lock())
    if not turn.acquire(timeout=budget):
        error = sqlite3.OperationalError("database is locked (by this process's writers)")
        error.sqlite_errorcode = sqlite3.SQLITE_BUSY
        error.sqlite_errorname = "SQLITE_BUSY"
        raise error
    try:
        left = budget - (time.monotonic() - started)
        if left < budget - 0.001:  # the turn took a while: the lock gets what is left
            conn.execute(f"PRAGMA busy_timeout = {max(0, int(left * 1000))}")
            try:
                conn.execute("BEGIN IMMEDIATE")
            finally:
                conn.execute(f"PRAGMA busy_timeout = {int(budget * 1000)}")
        else:
            conn.execute("BEGIN IMMEDIATE")
        yield
    finally:
        turn.release()


@contextmanager
def write(db: Database) -> Iterator[Database]:
    """Run the block as one ``BEGIN IMMEDIATE`` transaction; roll back on any error.

    The process's writers to the file take turns first; the turn and the lock together
    wait at most the busy timeout. Nested use joins the outer transaction through a
    savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    with _begin_in_turn(db.conn):
        try:
            yield db
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")


def migrate(db: Database, migration_sets: Sequence[Migrations]) -> None:
    """Switch to WAL mode and apply whatever is pending in ``migration_sets``, in order."""
    if db.conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        db.enable_wal()
    # One write transaction around all sets: workers starting together queue here,
    # and the later ones find nothing pending.
    with write(db):
        for migrations in migration_sets:
            migrations.apply(db)


def get_db() -> Database:
    """This thread's connection to the app's database, opened on first use and then kept.

    A thread keeps one connection: asked for another database (tests build many apps),
    it closes the old one and opens the new.
    """
    path = str(current_app.config["DATABASE"])
    timeout = current_app.config["DATABASE_BUSY_TIMEOUT"]
    held: tuple[str, float, Database] | None = getattr(_per_thread, "db", None)
    if held is not None and held[:2] == (path, timeout):
        return held[2]
    if held is not None:
        held[2].close()
    db = connect(path, timeout)
    _per_thread.db = (path, timeout, db)
    return db


def end_request(_error: BaseException | None = None) -> None:
    """Roll back a transaction the request left open; the connection stays for the next one."""
    held: tuple[str, float, Database] | None = getattr(_per_thread, "db", None)
    if held is not None and held[2].conn.in_transaction:
        log.error("a request left a transaction open on %s; rolled back", held[0])
        held[2].conn.execute("ROLLBACK")


@contextmanager
def busy_timeout(db: Database, seconds: float) -> Iterator[Database]:
    """Wait at most ``seconds`` for the write lock inside the block, then as before."""
    (before,) = db.conn.execute("PRAGMA busy_timeout").fetchone()
    queued = getattr(db.conn, "busy_seconds", None)
    db.conn.execute(f"PRAGMA busy_timeout = {max(0, int(seconds * 1000))}")
    if queued is not None:
        db.conn.busy_seconds = seconds  # type: ignore[attr-defined]
    try:
        yield db
    finally:
        db.conn.execute(f"PRAGMA busy_timeout = {before}")
        if queued is not None:
            db.conn.busy_seconds = queued  # type: ignore[attr-defined]


def init_app(
    app: Flask,
    migration_sets: Sequence[Migrations],
    on_ready: Callable[[Database], None] | None = None,
) -> None:
    """Migrate the app's database, run ``on_ready`` on it, and check each request's teardown."""
    db = connect(app.config["DATABASE"], app.config["DATABASE_BUSY_TIMEOUT"])
    try:
        migrate(db, migration_sets)
        if on_ready is not None:
            on_ready(db)
    finally:
        db.close()
    app.teardown_appcontext(end_request)
