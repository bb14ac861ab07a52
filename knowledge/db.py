"""The SQLite database: connections, the write discipline and the Flask glue.

Every connection runs in autocommit mode (``isolation_level=None``) so that reads
never hold a transaction, and every write goes through :func:`write`, which opens
``BEGIN IMMEDIATE``: two processes that read-then-write never deadlock on the lock
upgrade, they queue on the busy timeout instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from flask import Flask, current_app, g
from sqlite_utils import Database
from sqlite_utils.migrations import Migrations


def connect(path: str | Path, busy_timeout: float = 5.0) -> Database:
    """Open the database at ``path`` in autocommit mode with a busy timeout in seconds.

    Foreign keys are enforced and ``secure_delete`` is on, so deleted content is zeroed.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), isolation_level=None, timeout=busy_timeout, check_same_thread=False
    )
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    # Deleted rows (a resident's forgotten texts) are overwritten, whatever the SQLite build.
    conn.execute("PRAGMA secure_delete = ON")
    return Database(conn, execute_plugins=False)


@contextmanager
def write(db: Database) -> Iterator[Database]:
    """Run the block as one ``BEGIN IMMEDIATE`` transaction; roll back on any error.

    Nested use joins the outer transaction through a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
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
    """The request's (or CLI command's) connection, opened on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"], current_app.config["DATABASE_BUSY_TIMEOUT"])
    return g.db


def close_db(_error: BaseException | None = None) -> None:
    """Close the connection opened by :func:`get_db`, if any."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_app(
    app: Flask,
    migration_sets: Sequence[Migrations],
    on_ready: Callable[[Database], None] | None = None,
) -> None:
    """Migrate the app's database, run ``on_ready`` on it, and close connections per request."""
    db = connect(app.config["DATABASE"], app.config["DATABASE_BUSY_TIMEOUT"])
    try:
        migrate(db, migration_sets)
        if on_ready is not None:
            on_ready(db)
    finally:
        db.close()
    app.teardown_appcontext(close_db)
