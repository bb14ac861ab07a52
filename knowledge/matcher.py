"""Find the published entry a resident's message asks about — or admit there is none.

Every phrasing of every entry (standard question and alternates) is normalised and cut
into features: characters, character pairs, and pairs of syllable readings (so a
homophone typo still shares features with the right word). Features are weighted by
rarity (idf) and stored as numpy postings lists, so scoring all phrasings of 100,000
entries is one ``np.bincount`` over the postings of the query's features. The best few
entries are then re-scored with rapidfuzz against their closest phrasing, and the
result falls into one of three bands:

- **answer**: one entry scores high and clearly ahead of the runner-up;
- **choices**: something fits, but not clearly enough — offer the top 3;
- **fallback**: nothing fits well enough; say so and name a person to ask.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel
from sqlite_utils import Database

from knowledge.entries import Entry
from knowledge.normalize import SynonymFolder, char_reading, clean_text, clean_texts
from knowledge.store import content_generation, published_entries
from knowledge.synonyms import synonym_groups

Band = Literal["answer", "choices", "fallback"]

_CP_BITS = 21
_BIGRAM = 1 << 42
_SYLLABLE_BIGRAM = 2 << 42
_TABLE_SIZE = 0x30000
_CODE_BITS = 44  # every feature code is below 2**44
# Scoring weights, chosen on leave-one-out runs over the entries' own alternates (see README).
# phrasing overlap = (share of the phrasing in the message)^ALPHA
#                   × (share of the message in the phrasing)^(1 - ALPHA)
ALPHA = 0.75
FUZZ_WEIGHT = 0.3  # share of rapidfuzz string similarity in a phrasing's score
DOCUMENT_WEIGHT = 0.5  # share of how much of the message the whole entry explains
ANSWER_PREFIX = 100  # characters of the answer that join the entry's document
CANDIDATE_POOL = 32  # best phrasings re-scored per message
QUERY_CAP = 0.5  # a long message weighs at most this many typical phrasings
COMMON_FEATURE_ROWS = 2000  # features in more rows than this and than ...
COMMON_FEATURE_SHARE = 0.01  # ... this share of all rows are not scored


@dataclass(frozen=True)
class Thresholds:
    """Where the bands start (calibration: README, "How the matcher decides").

    A message is answered directly only when the best entry scores at least ``answer``,
    leads the runner-up by ``lead`` (after discounting ``runner_up_weight`` × its score),
    and the words only the best entry explains outweigh those only the runner-up
    explains by ``distinct`` (a share of the message). Below ``choices`` it falls back.
    """

    answer: float = 0.35
    lead: float = 0.0
    runner_up_weight: float = 0.8
    distinct: float = 0.1
    choices: float = 0.304


@dataclass(frozen=True)
class Candidate:
    """An entry that may be what the resident means, with its score (0–1)."""

    entry_id: int
    question: str
    score: float


@dataclass(frozen=True)
class Match:
    """The matcher's verdict on one message: its band and the best candidates, best first."""

    band: Band
    candidates: tuple[Candidate, ...]
    distinct: float = 0.0

    @property
    def best(self) -> Candidate | None:
        """The top candidate, if any."""
        return self.candidates[0] if self.candidates else None


def _syllable_table() -> np.ndarray:
    """Map every code point to an id shared by characters that read alike."""
    table = np.arange(_TABLE_SIZE, dtype=np.int64)
    syllable_ids: dict[str, int] = {}
    for cp in range(0x3400, 0xA000):
        reading = char_reading(chr(cp))
        if reading != chr(cp):
            table[cp] = _TABLE_SIZE + syllable_ids.setdefault(reading, len(syllable_ids))
    return table


_SYLLABLES: np.ndarray | None = None
_SYLLABLES_LOCK = threading.Lock()


def _syllables() -> np.ndarray:
    global _SYLLABLES
    with _SYLLABLES_LOCK:
        if _SYLLABLES is None:
            _SYLLABLES = _syllable_table()
    return _SYLLABLES


# Function characters: a feature made only of these says nothing about what is asked
# (怎么, 是不是, 可以吗), however small the knowledge base and its idf statistics are.
_FUNCTION_CHARS = np.array(
    sorted(
        map(
            ord,
            set(
                "的了吗呢吧啊呀么什怎样是不有没在我你他她它们这那个能要会可以就都也还和与及或把被给对让为啥咋嘛哦呗"
            ),
        )
    )
)


def _feature_codes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All features of ``texts`` as (row, code) arrays; duplicates within a row remain.

    Features made only of function characters are left out.
    """
    lengths = np.fromiter((len(text) for text in texts), dtype=np.int64, count=len(texts))
    joined = "".join(texts)
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    cps = np.minimum(cps, _TABLE_SIZE - 1)
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    same_row = rows[:-1] == rows[1:]
    function = np.isin(cps, _FUNCTION_CHARS)
    pairs = same_row & ~(function[:-1] & function[1:])
    left, right = cps[:-1][pairs], cps[1:][pairs]
    pair_rows = rows[:-1][pairs]
    syllables = _syllables()[cps]
    sleft, sright = syllables[:-1][pairs], syllables[1:][pairs]
    codes = np.concatenate(
        [
            cps[~function],
            _BIGRAM | (left << _CP_BITS) | right,
            _SYLLABLE_BIGRAM | (sleft << _CP_BITS) | sright,
        ]
    )
    return np.concatenate([rows[~function], pair_rows, pair_rows]), codes


class _FeatureIndex:
    """Binary idf-weighted features of ``size`` rows, as postings lists.

    ``rows`` and ``codes`` list each feature occurrence (duplicates allowed); one sort of
    the (feature, row) keys groups the postings by feature and drops the duplicates.
    """

    def __init__(self, size: int, rows: np.ndarray, codes: np.ndarray):
        self.size = size
        self.max_postings = max(COMMON_FEATURE_ROWS, int(size * COMMON_FEATURE_SHARE))
        if size == 0 or len(codes) == 0:
            self.vocab = np.zeros(0, dtype=np.int64)
            self.idf = np.zeros(0)
            self.indptr = np.zeros(1, dtype=np.int64)
            self.postings = np.zeros(0, dtype=np.int32)
            self.row_weight = np.zeros(size)
            return
        # One sort of (code, row) keys groups occurrences by feature, rows ascending.
        # Codes stay below 2**44, so that fits int64 up to 2**19 rows; bigger indexes
        # first renumber the codes densely (one more sort).
        bits = max(1, (size - 1).bit_length())
        dense_codes = None
        if _CODE_BITS + bits > 63:
            dense_codes, codes = np.unique(codes, return_inverse=True)
        keys = (codes << bits) | rows
        keys.sort()
        keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
        pair_codes, pair_rows = keys >> bits, keys & ((1 << bits) - 1)
        del keys
        starts = np.flatnonzero(np.concatenate([[True], pair_codes[1:] != pair_codes[:-1]]))
        self.vocab = pair_codes[starts] if dense_codes is None else dense_codes[pair_codes[starts]]
        del pair_codes
        pair_features = np.repeat(
            np.arange(len(starts)), np.diff(np.append(starts, len(pair_rows)))
        )
        df = np.bincount(pair_features, minlength=len(self.vocab))
        self.idf = np.log1p(size / df)
        self.indptr = np.concatenate([[0], np.cumsum(df)])
        self.postings = pair_rows.astype(np.int32)
        self.row_weight = np.bincount(pair_rows, weights=self.idf[pair_features], minlength=size)

    def shared_weight(self, codes: np.ndarray) -> tuple[np.ndarray, float] | None:
        """Per row, the weight of the query features (unique ``codes``) it contains; and
        the query's own weight, counting features never seen at the highest idf."""
        if len(codes) == 0 or len(self.vocab) == 0:
            return None
        slots = np.minimum(np.searchsorted(self.vocab, codes), len(self.vocab) - 1)
        known = slots[self.vocab[slots] == codes]
        # Features in a large share of a large index (single common characters) cost the
        # most to score and say the least; only big indexes skip them.
        scored = known[self.indptr[known + 1] - self.indptr[known] <= self.max_postings]
        if len(scored) == 0:
            return None
        starts, ends = self.indptr[scored], self.indptr[scored + 1]
        hit_rows = np.concatenate([self.postings[s:e] for s, e in zip(starts, ends, strict=True)])
        hit_weights = np.repeat(self.idf[scored], ends - starts)
        shared = np.bincount(hit_rows, weights=hit_weights, minlength=self.size)
        unknown = len(codes) - len(known)
        query_weight = float(self.idf[known].sum()) + unknown * float(np.log1p(self.size))
        return shared, query_weight


class MatchIndex:
    """An in-memory index over the phrasings of a set of published entries."""

    def __init__(
        self,
        entries: Sequence[Entry],
        synonyms: Sequence[list[str]] = (),
        thresholds: Thresholds | None = None,
        generation: int = 0,
    ):
        self.thresholds = thresholds or Thresholds()
        self.generation = generation
        self.folder = SynonymFolder(synonyms)
        self.questions: dict[int, str] = {}
        for entry in entries:
            assert entry.id is not None
            self.questions[entry.id] = entry.question
        self.entry_slot = {entry_id: slot for slot, entry_id in enumerate(self.questions)}
        # Normalise everything in two batches: phrasings, and each entry's extra words.
        prepared = self.prepare_many([p for entry in entries for p in entry.phrasings()])
        texts: list[str] = []
        row_slot: list[int] = []
        start = 0
        for slot, entry in enumerate(entries):
            end = start + 1 + len(entry.alternates)
            for phrasing in dict.fromkeys(prepared[start:end]):
                if phrasing:
                    texts.append(phrasing)
                    row_slot.append(slot)
            start = end
        extras = self.prepare_many(
            [" ".join([*entry.keywords, entry.answer[:ANSWER_PREFIX]]) for entry in entries]
        )
        self.texts = texts
        slots = np.asarray(row_slot, dtype=np.int64)
        self.row_entry = np.asarray(list(self.questions), dtype=np.int64)[slots]
        rows, codes = _feature_codes(texts)
        self.phrasings = _FeatureIndex(len(texts), rows, codes)
        # An entry's document: the features of all its phrasings, keywords and answer start.
        extra_rows, extra_codes = _feature_codes(extras)
        self.documents = _FeatureIndex(
            len(self.questions),
            np.concatenate([slots[rows], extra_rows]),
            np.concatenate([codes, extra_codes]),
        )
        del rows, codes, extra_rows, extra_codes
        self.phrasing_norm = np.power(self.phrasings.row_weight, ALPHA)
        self.typical_phrasing = float(np.median(self.phrasings.row_weight)) if texts else 1.0
        self.typical_document = (
            float(np.median(self.documents.row_weight)) if self.questions else 1.0
        )

    def prepare(self, text: str) -> str:
        """Normalise text and fold synonyms — what both phrasings and queries go through."""
        return self.folder.fold(clean_text(text))

    def prepare_many(self, texts: Sequence[str]) -> list[str]:
        """:meth:`prepare` of many texts at once."""
        return self.folder.fold_many(clean_texts(texts))

    def __len__(self) -> int:
        return len(self.questions)

    def _codes(self, text: str) -> tuple[str, np.ndarray]:
        query = self.prepare(text)
        codes = np.unique(_feature_codes([query])[1]) if query else np.zeros(0, dtype=np.int64)
        return query, codes

    def rank(self, text: str, limit: int = 3) -> list[Candidate]:
        """The ``limit`` best entries for ``text``, best first (empty if nothing overlaps)."""
        return self._rank(*self._codes(text), limit)[0]

    def _rank(
        self, query: str, codes: np.ndarray, limit: int
    ) -> tuple[list[Candidate], dict[int, float]]:
        """The best entries, and for each the share of the message its document explains."""
        hits = self.phrasings.shared_weight(codes)
        if hits is None:
            return [], {}
        shared, query_weight = hits
        hit_rows = np.flatnonzero(shared > 0)
        if len(hit_rows) == 0:
            return [], {}
        overlap = shared[hit_rows] / (
            self.phrasing_norm[hit_rows]
            * min(query_weight, QUERY_CAP * self.typical_phrasing) ** (1 - ALPHA)
        )
        pool = min(len(overlap), CANDIDATE_POOL)
        top = np.argpartition(-overlap, pool - 1)[:pool]
        top = top[np.argsort(-overlap[top])]
        best: dict[int, float] = {}
        for row, row_overlap in zip(hit_rows[top], overlap[top], strict=True):
            entry_id = int(self.row_entry[row])
            similarity = _string_similarity(query, self.texts[row])
            score = (1 - FUZZ_WEIGHT) * float(row_overlap) + FUZZ_WEIGHT * similarity
            if score > best.get(entry_id, -1.0):
                best[entry_id] = score
        explained = dict.fromkeys(best, 0.0)
        document_hits = self.documents.shared_weight(codes)
        if document_hits is not None:
            document_shared, document_query_weight = document_hits
            budget = min(document_query_weight, QUERY_CAP * self.typical_document)
            for entry_id, score in best.items():
                explained[entry_id] = float(document_shared[self.entry_slot[entry_id]]) / budget
                best[entry_id] = (1 - DOCUMENT_WEIGHT) * score + DOCUMENT_WEIGHT * explained[
                    entry_id
                ]
        ranked = sorted(best.items(), key=lambda item: -item[1])[:limit]
        candidates = [
            Candidate(entry_id, self.questions[entry_id], round(min(score, 1.0), 4))
            for entry_id, score in ranked
        ]
        return candidates, explained

    def match(self, text: str) -> Match:
        """Rank ``text`` and decide its band from the calibrated thresholds.

        ``distinct`` is how much more of the message the best entry explains than the
        runner-up: words both explain cancel out, so only the differences count.
        """
        query, codes = self._codes(text)
        candidates, explained = self._rank(query, codes, limit=3)
        distinct = 0.0
        if candidates:
            runner_up = explained[candidates[1].entry_id] if len(candidates) > 1 else 0.0
            distinct = explained[candidates[0].entry_id] - runner_up
        return Match(
            band_for(candidates, distinct, self.thresholds), tuple(candidates), round(distinct, 4)
        )


def _string_similarity(query: str, phrasing: str) -> float:
    """How alike two normalised texts read (0–1), lenient to a longer message around it."""
    whole = Indel.normalized_similarity(query, phrasing)
    if len(query) > len(phrasing) * 1.5:
        return max(whole, 0.9 * fuzz.partial_ratio(phrasing, query) / 100)
    return whole


def band_for(candidates: Sequence[Candidate], distinct: float, thresholds: Thresholds) -> Band:
    """Answer only when the best is high and clearly ahead; choices when it is plausible."""
    if not candidates or candidates[0].score < thresholds.choices:
        return "fallback"
    best = candidates[0].score
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    if (
        best >= thresholds.answer
        and best - thresholds.runner_up_weight * runner_up >= thresholds.lead
        and distinct >= thresholds.distinct
    ):
        return "answer"
    return "choices"


_CACHE: dict[str, MatchIndex] = {}
_CACHE_LOCK = threading.Lock()


def current_index(db: Database, key: str) -> MatchIndex:
    """This process's index for the database at ``key`` (its path), kept fresh.

    The index is rebuilt when published content changed anywhere.

    Every worker checks the content generation counter (one indexed read) per call, so
    an edit published through one worker reaches all of them on their next message.
    """
    generation = content_generation(db)
    index = _CACHE.get(key)
    if index is not None and index.generation == generation:
        return index
    with _CACHE_LOCK:
        index = _CACHE.get(key)
        if index is None or index.generation != generation:
            index = MatchIndex(published_entries(db), synonym_groups(db), generation=generation)
            _CACHE[key] = index
    return index
