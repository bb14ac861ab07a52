"""The index each worker answers with, kept in step with published content.

Every call of :func:`current_index` checks the content generation counter (one indexed
read), so an edit published through one worker reaches all of them. A small index is
rebuilt on the spot, and the message that noticed the change already sees it. One of more
than :data:`SYNC_REBUILD_MAX_ENTRIES` entries keeps answering while a background thread
builds its successor, so residents are not held up by a large knowledge base. The choice
goes by size, not by how long the last build took, so that a busy machine does not turn a
small index's rebuild into a background one (and the next message into a stale answer).

A byte-for-byte copy of a database can answer with its original's index
(:func:`share_index`): the tests copy one seeded database per test and would otherwise
build the same index again for each. :func:`forget_indexes` empties the cache.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection

from sqlite_utils import Database

from knowledge.db import connect
from knowledge.matching.matcher import MatchIndex
from knowledge.matching.vector_cache import DatabaseVectorCache
from knowledge.store import content_generation, published_entries
from knowledge.synonyms import synonym_groups

log = logging.getLogger(__name__)

# An index of more entries than this is rebuilt in the background after a content change,
# while it keeps answering; a smaller one is rebuilt on the spot. On a 2-core machine at a
# load of 6, the shipped base (under 300 entries) built in 0.1 s and 5,000 entries in 0.9 s.
SYNC_REBUILD_MAX_ENTRIES = 2_000
REBUILD_RETRY_SECONDS = 30.0  # after a failed background rebuild, wait this long to retry

_CACHE: dict[str, MatchIndex] = {}
_CACHE_LOCK = threading.Lock()
_REBUILDING: set[str] = set()
_REBUILDING_LOCK = threading.Lock()
_FAILED_AT: dict[str, float] = {}


def current_index(db: Database, key: str) -> MatchIndex:
    """This process's index for the database at ``key`` (its path), kept fresh."""
    generation = content_generation(db)
    index = _CACHE.get(key)
    if index is not None and index.generation == generation:
        return index
    if index is not None and len(index) > SYNC_REBUILD_MAX_ENTRIES:
        _rebuild_in_background(key)
        return index
    with _CACHE_LOCK:
        index = _CACHE.get(key)
        if index is None or index.generation != generation:
            index = _build(db, generation)
            _CACHE[key] = index
    return index


def _build(db: Database, generation: int) -> MatchIndex:
    return MatchIndex(
        published_entries(db),
        synonym_groups(db),
        generation=generation,
        vector_cache=DatabaseVectorCache(db),
    )


def _rebuild_in_background(key: str) -> None:
    """Start rebuilding the index of ``key`` in a thread, unless one is already at it."""
    with _REBUILDING_LOCK:
        failed_at = _FAILED_AT.get(key)
        if key in _REBUILDING or (
            failed_at is not None and time.monotonic() - failed_at < REBUILD_RETRY_SECONDS
        ):
            return
        _REBUILDING.add(key)
    threading.Thread(target=_rebuild, args=(key,), name="pufa-index-rebuild", daemon=True).start()


def _rebuild(key: str) -> None:
    """Build the index of ``key`` on a connection of its own and put it in the cache."""
    try:
        db = connect(key)
        try:
            generation = content_generation(db)
            index = _build(db, generation)
        finally:
            db.conn.close()
        with _CACHE_LOCK:
            cached = _CACHE.get(key)
            if cached is None or cached.generation < generation:
                _CACHE[key] = index
        _FAILED_AT.pop(key, None)
        log.info(
            "matcher index rebuilt in the background: %d entries, generation %d, %.1f s",
            len(index),
            generation,
            index.build_seconds,
        )
    except Exception:
        _FAILED_AT[key] = time.monotonic()
        log.exception(
            "matcher index rebuild failed; the previous index keeps answering, retry in %.0f s",
            REBUILD_RETRY_SECONDS,
        )
    finally:
        with _REBUILDING_LOCK:
            _REBUILDING.discard(key)


def share_index(original: str, copy: str) -> bool:
    """Let the database at ``copy`` answer with the index of ``original``, until it changes.

    Only for a byte-for-byte copy of ``original`` made since its index was built: the copy
    has the same content and generation, so its own build would give the same index. Its
    first content change rebuilds it as for any database. False if ``original`` has none.
    """
    with _CACHE_LOCK:
        index = _CACHE.get(original)
        if index is None:
            return False
        _CACHE[copy] = index
    return True


def forget_indexes(keep: Collection[str] = ()) -> None:
    """Drop this process's indexes, except those of the databases at the paths in ``keep``."""
    with _CACHE_LOCK:
        for key in [key for key in _CACHE if key not in keep]:
            del _CACHE[key]
    with _REBUILDING_LOCK:
        for key in [key for key in _FAILED_AT if key not in keep]:
            del _FAILED_AT[key]
