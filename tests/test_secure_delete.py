"""``knowledge.db.connect`` overwrites deleted content, whatever SQLite build the host has."""

from __future__ import annotations

from pathlib import Path

from knowledge.db import connect

MARKER = "居民忘掉的那句话-7f3a9c"


def test_every_connection_sets_secure_delete(tmp_path: Path) -> None:
    db = connect(tmp_path / "pufa.sqlite3")
    assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1
    db.close()


def test_a_deleted_text_is_gone_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "pufa.sqlite3"
    db = connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db["turns"].insert_all({"id": i, "text": f"{MARKER} {i}" * 20} for i in range(200))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert MARKER.encode() in path.read_bytes()
    db.execute("DELETE FROM turns")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    wal = tmp_path / "pufa.sqlite3-wal"
    leftovers = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert MARKER.encode() not in leftovers
