"""Idf-weighted feature indexes, built chunk by chunk so that memory stays near their size.

Rows (phrasings, or entries' documents) have binary features weighted by rarity:
``idf = log(1 + rows / rows with the feature)``. Two layouts answer two questions:

- :class:`PostingsIndex` (feature → rows) finds every row that shares features with a
  message: one ``np.bincount`` over the postings of the message's features.
- :class:`ForwardIndex` (row → features) tells how much of a message a few given rows
  explain, which is all the matcher needs of entries' documents.

Both are built from chunks of rows given as their distinct ``code << bits | row`` keys
(:func:`knowledge.matching.features.sorted_keys`). A chunk keeps only its own feature codes and
compact row or feature numbers, so the peak during a build is about the finished index
plus one chunk, not the int64 keys of all rows at once.

Features in more rows than ``max(COMMON_FEATURE_ROWS, COMMON_FEATURE_SHARE × rows)``
(single common characters in a large index) cost the most to score and say the least;
they count towards a message's own weight but are not scored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

COMMON_FEATURE_ROWS = 2000
COMMON_FEATURE_SHARE = 0.01
# Hits are gathered sparsely (sorted) when there are fewer than one per this many rows.
SPARSE_HITS = 20


def _common_limit(size: int) -> int:
    return max(COMMON_FEATURE_ROWS, int(size * COMMON_FEATURE_SHARE))


def _row_dtype(rows: int) -> type[np.integer]:
    return np.uint16 if rows <= 1 << 16 else np.int32


def _first_of_each(codes: np.ndarray) -> np.ndarray:
    """Whether each of the sorted ``codes`` differs from the one before it."""
    if len(codes) == 0:
        return np.zeros(0, dtype=bool)
    return np.concatenate([[True], codes[1:] != codes[:-1]])


@dataclass
class _Vocabulary:
    """Sorted feature codes with their idf, and how a message's codes fall into them."""

    codes: np.ndarray
    df: np.ndarray
    idf: np.ndarray
    size: int

    @classmethod
    def of_chunks(
        cls, chunk_codes: list[np.ndarray], size: int
    ) -> tuple[_Vocabulary, list[np.ndarray]]:
        """The union of the chunks' codes, and each chunk's codes as positions in it."""
        codes = np.unique(np.concatenate(chunk_codes)) if chunk_codes else np.zeros(0, np.int64)
        positions = [np.searchsorted(codes, chunk).astype(np.int32) for chunk in chunk_codes]
        return cls(codes, np.zeros(len(codes), dtype=np.int64), np.zeros(0), size), positions

    def finish(self) -> None:
        """Compute the idf once every chunk's counts are in ``df``."""
        self.idf = np.log1p(self.size / np.maximum(self.df, 1))

    def lookup(self, codes: np.ndarray) -> tuple[np.ndarray, float] | None:
        """The scored features among ``codes`` (unique, sorted) as ascending positions, and
        the message's weight, counting features never seen at the highest idf."""
        if len(codes) == 0 or len(self.codes) == 0:
            return None
        slots = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        known = slots[self.codes[slots] == codes]
        scored = known[self.df[known] <= _common_limit(self.size)]
        if len(scored) == 0:
            return None
        unknown = len(codes) - len(known)
        return scored, float(self.idf[known].sum()) + unknown * float(np.log1p(self.size))


@dataclass
class _PostingsChunk:
    codes: np.ndarray  # distinct feature codes of the chunk, ascending
    counts: np.ndarray  # rows of the chunk with each code
    rows: np.ndarray  # the rows, grouped by code, as numbers within the chunk
    first_row: int
    row_count: int


class PostingsIndex:
    """Feature → rows, for finding every row that shares features with a message."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.vocabulary = _Vocabulary(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), 0)
        self.indptr = np.zeros(1, dtype=np.int64)
        self.postings = np.zeros(0, dtype=np.int32)
        self.row_weight = np.zeros(size)

    def shared_weight(self, codes: np.ndarray) -> Hits | None:
        """The rows that contain some of the message's features (unique sorted
        ``codes``), the weight of those each contains, and the message's own weight.
        None when no feature can be scored."""
        found = self.vocabulary.lookup(codes)
        if found is None:
            return None
        scored, query_weight = found
        starts = self.indptr[scored]
        lengths = self.indptr[scored + 1] - starts
        firsts = np.cumsum(lengths) - lengths
        hit_rows = self.postings[np.repeat(starts - firsts, lengths) + np.arange(lengths.sum())]
        hit_weights = np.repeat(self.vocabulary.idf[scored], lengths)
        if len(hit_rows) * SPARSE_HITS < self.size:
            # Few hits (most messages): sort them rather than sweep every row.
            rows, owner = np.unique(hit_rows, return_inverse=True)
            weights = np.bincount(owner, weights=hit_weights, minlength=len(rows))
            return Hits(rows.astype(np.int64), weights, query_weight)
        dense = np.bincount(hit_rows, weights=hit_weights, minlength=self.size)
        rows = np.flatnonzero(dense > 0)
        return Hits(rows, dense[rows], query_weight, dense)


@dataclass(frozen=True)
class Hits:
    """The rows that share features with a message, ascending, with the weight of the
    features each shares, and the message's own weight."""

    rows: np.ndarray
    weights: np.ndarray
    query_weight: float
    dense: np.ndarray | None = None  # every row's shared weight, when gathered densely

    def weight_of(self, rows: np.ndarray) -> np.ndarray:
        """The shared weight of each of ``rows`` (0 for a row that shares nothing)."""
        if self.dense is not None:
            return self.dense[rows]
        if len(self.rows) == 0:
            return np.zeros(len(rows))
        slots = np.minimum(np.searchsorted(self.rows, rows), len(self.rows) - 1)
        return np.where(self.rows[slots] == rows, self.weights[slots], 0.0)


class PostingsBuilder:
    """Collects a :class:`PostingsIndex` chunk by chunk of rows, then fills it in place."""

    def __init__(self) -> None:
        self.size = 0
        self._chunks: list[_PostingsChunk] = []

    def add(self, keys: np.ndarray, bits: int, rows: int) -> None:
        """Add the next ``rows`` rows, given as distinct sorted ``code << bits | row`` keys."""
        codes = keys >> bits
        starts = np.flatnonzero(_first_of_each(codes))
        self._chunks.append(
            _PostingsChunk(
                codes=codes[starts],
                counts=np.diff(np.append(starts, len(keys))),
                rows=(keys & ((1 << bits) - 1)).astype(_row_dtype(rows)),
                first_row=self.size,
                row_count=rows,
            )
        )
        self.size += rows

    def build(self) -> PostingsIndex:
        """The index of every row added, in the order added."""
        index = PostingsIndex(self.size)
        chunks, self._chunks = self._chunks, []
        vocabulary, positions = _Vocabulary.of_chunks([chunk.codes for chunk in chunks], self.size)
        for features, chunk in zip(positions, chunks, strict=True):
            vocabulary.df[features] += chunk.counts
            chunk.codes = np.zeros(0, np.int64)
        vocabulary.finish()
        index.vocabulary = vocabulary
        index.indptr = np.concatenate([[0], np.cumsum(vocabulary.df)])
        index.postings = np.empty(index.indptr[-1], dtype=np.int32)
        filled = index.indptr[:-1].copy()
        while chunks:
            chunk, features = chunks.pop(0), positions.pop(0)
            # A chunk's rows follow those of earlier chunks: each feature's group goes
            # right behind what earlier chunks wrote for it.
            shift = filled[features] - (np.cumsum(chunk.counts) - chunk.counts)
            destination = np.repeat(shift, chunk.counts) + np.arange(len(chunk.rows))
            index.postings[destination] = chunk.rows.astype(np.int32) + chunk.first_row
            filled[features] += chunk.counts
            weights = np.repeat(vocabulary.idf[features], chunk.counts)
            index.row_weight[chunk.first_row : chunk.first_row + chunk.row_count] = np.bincount(
                chunk.rows, weights=weights, minlength=chunk.row_count
            )
        return index


@dataclass
class _ForwardChunk:
    indptr: np.ndarray  # where each row's features start in ``features``
    features: np.ndarray  # each row's features, ascending (vocabulary positions once built)
    first_row: int


class ForwardIndex:
    """Row → features, for weighing how much of a message a few given rows explain.

    The rows stay in their build chunks: a finished index is no bigger than its parts,
    and looking up a few dozen rows costs a few dozen slices.
    """

    def __init__(self, size: int, vocabulary: _Vocabulary, chunks: list[_ForwardChunk]) -> None:
        self.size = size
        self.vocabulary = vocabulary
        self._chunks = chunks
        self._chunk_starts = np.array([chunk.first_row for chunk in chunks], dtype=np.int64)
        self.row_weight = np.zeros(size)
        for chunk in chunks:
            row_count = len(chunk.indptr) - 1
            owners = np.repeat(np.arange(row_count), np.diff(chunk.indptr))
            self.row_weight[chunk.first_row : chunk.first_row + row_count] = np.bincount(
                owners, weights=vocabulary.idf[chunk.features], minlength=row_count
            )

    def query(self, codes: np.ndarray) -> tuple[np.ndarray, float] | None:
        """The message's scored features (for :meth:`shared_weight`) and its own weight."""
        return self.vocabulary.lookup(codes)

    def shared_weight(self, rows: list[int], scored: np.ndarray) -> np.ndarray:
        """For each of ``rows``, the weight of the ``scored`` message features it has."""
        wanted = np.asarray(rows, dtype=np.int64)
        located = np.searchsorted(self._chunk_starts, wanted, side="right") - 1
        # The idf of each scored feature, 0 for the rest (np.zeros is lazy: cheap even
        # for a large vocabulary).
        weight_of = np.zeros(len(self.vocabulary.codes))
        weight_of[scored] = self.vocabulary.idf[scored]
        shared = np.zeros(len(wanted))
        for chunk_number in np.unique(located).tolist():
            chunk = self._chunks[chunk_number]
            picked = np.flatnonzero(located == chunk_number)
            local = wanted[picked] - chunk.first_row
            starts, lengths = chunk.indptr[local], chunk.indptr[local + 1] - chunk.indptr[local]
            # Each picked row's run of features, gathered in one fancy index, then summed
            # run by run (reduceat: empty runs are left out, their rows stay 0).
            firsts = np.cumsum(lengths) - lengths
            offsets = np.repeat(starts - firsts, lengths)
            features = chunk.features[offsets + np.arange(len(offsets))]
            nonempty = lengths > 0
            if nonempty.any():
                shared[picked[nonempty]] = np.add.reduceat(
                    weight_of.take(features), firsts[nonempty]
                )
        return shared


class ForwardBuilder:
    """Collects a :class:`ForwardIndex` chunk by chunk of rows."""

    def __init__(self) -> None:
        self.size = 0
        self._chunks: list[_ForwardChunk] = []
        self._codes: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []

    def add(self, keys: np.ndarray, bits: int, rows: int) -> None:
        """Add the next ``rows`` rows, given as distinct sorted ``code << bits | row`` keys."""
        codes = keys >> bits
        new_code = _first_of_each(codes)
        starts = np.flatnonzero(new_code)
        local_features = (np.cumsum(new_code) - 1).astype(np.int32)
        local_rows = (keys & ((1 << bits) - 1)).astype(_row_dtype(rows))
        # A stable sort by row keeps each row's features ascending.
        order = np.argsort(local_rows, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(np.bincount(local_rows, minlength=rows))])
        self._chunks.append(_ForwardChunk(indptr, local_features[order], self.size))
        self._codes.append(codes[starts])
        self._counts.append(np.diff(np.append(starts, len(keys))))
        self.size += rows

    def build(self) -> ForwardIndex:
        """The index of every row added, in the order added."""
        vocabulary, positions = _Vocabulary.of_chunks(self._codes, self.size)
        self._codes = []
        for chunk, features, counts in zip(self._chunks, positions, self._counts, strict=True):
            vocabulary.df[features] += counts
            chunk.features = features[chunk.features]
        vocabulary.finish()
        chunks, self._chunks, self._counts = self._chunks, [], []
        return ForwardIndex(self.size, vocabulary, chunks)
