"""The database's cache of phrasing vectors (table ``phrasing_vectors``).

Keys are :func:`knowledge.matching.semantic.text_key` hashes (model and text), values the
float16 vectors' bytes. Saving is best effort: a worker that cannot write (the database
busy past its timeout, or read-only) logs it and keeps its vectors in memory; the next
build tries again.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence

import numpy as np
from sqlite_utils import Database

from knowledge.db import write
from knowledge.matching.semantic import DIMENSIONS

log = logging.getLogger(__name__)

# Keys per SELECT … IN (…): well under SQLite's limit of bound parameters.
LOOKUP_BATCH = 500


class DatabaseVectorCache:
    """Phrasing vectors stored in the ``phrasing_vectors`` table of ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored float16 vectors of those of ``keys`` that are stored."""
        found: dict[str, np.ndarray] = {}
        try:
            for first in range(0, len(keys), LOOKUP_BATCH):
                batch = list(keys[first : first + LOOKUP_BATCH])
                marks = ",".join("?" * len(batch))
                rows = self.db.execute(
                    f"SELECT key, vector FROM phrasing_vectors WHERE key IN ({marks})", batch
                ).fetchall()
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float16)
                    if vector.shape == (DIMENSIONS,):
                        found[key] = vector
        except sqlite3.Error as error:
            log.warning("phrasing vectors not read from the database: %s", error)
        return found

    def missing(self, keys: Sequence[str]) -> list[str]:
        """Those of ``keys`` that are not stored (all of them if the table cannot be read)."""
        stored: set[str] = set()
        try:
            for first in range(0, len(keys), LOOKUP_BATCH):
                batch = list(keys[first : first + LOOKUP_BATCH])
                marks = ",".join("?" * len(batch))
                stored.update(
                    key
                    for (key,) in self.db.execute(
                        f"SELECT key FROM phrasing_vectors WHERE key IN ({marks})", batch
                    ).fetchall()
                )
        except sqlite3.Error as error:
            log.warning("phrasing vectors not looked up in the database: %s", error)
        return [key for key in keys if key not in stored]

    def save(self, vectors: dict[str, np.ndarray]) -> None:
        """Store float16 vectors by key; a failure is logged, never raised."""
        if not vectors:
            return
        rows = [(key, np.asarray(v, dtype=np.float16).tobytes()) for key, v in vectors.items()]
        try:
            with write(self.db):
                self.db.conn.executemany(
                    "INSERT OR REPLACE INTO phrasing_vectors (key, vector) VALUES (?, ?)", rows
                )
        except sqlite3.Error as error:
            log.warning("%d phrasing vectors not saved to the database: %s", len(rows), error)
