"""Find the published entry a resident's message asks about — or admit there is none.

Every phrasing of every entry (standard question and alternates) is normalised and cut
into features: characters, character pairs, and pairs of syllable readings (so a
homophone typo still shares features with the right word; :mod:`knowledge.matching.features`).
Features are weighted by rarity (idf) and stored as numpy postings lists, so scoring all
phrasings of 100,000 entries is one ``np.bincount`` over the postings of the query's
features (:mod:`knowledge.matching.feature_index`). The best few entries are then re-scored with
rapidfuzz against their closest phrasing and by how much of the message their whole
document (phrasings, keywords, start of the answer) explains, and the result falls into
one of three bands:

- **answer**: one entry scores high and clearly ahead of the runner-up;
- **choices**: something fits, but not clearly enough — offer the top 3;
- **fallback**: nothing fits well enough; say so and name a person to ask.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from knowledge.entries import Entry
from knowledge.matching.feature_index import ForwardBuilder, PostingsBuilder
from knowledge.matching.features import distinct, feature_codes, row_bits, sorted_keys
from knowledge.matching.normalize import SynonymFolder, clean_text, clean_texts

Band = Literal["answer", "choices", "fallback"]

# Scoring weights, chosen on leave-one-out runs over the entries' own alternates (see README).
# phrasing overlap = (share of the phrasing in the message)^ALPHA
#                   × (share of the message in the phrasing)^(1 - ALPHA)
ALPHA = 0.75
FUZZ_WEIGHT = 0.3  # share of rapidfuzz string similarity in a phrasing's score
DOCUMENT_WEIGHT = 0.5  # share of how much of the message the whole entry explains
ANSWER_PREFIX = 100  # characters of the answer that join the entry's document
CANDIDATE_POOL = 32  # best phrasings re-scored per message
QUERY_CAP = 0.5  # a long message weighs at most this many typical phrasings
BUILD_CHUNK_ROWS = 8192  # phrasings whose features are extracted and sorted together


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


def _chunks(entries: Sequence[Entry], rows: int) -> list[tuple[int, int]]:
    """Consecutive (first, last) ranges of ``entries`` with about ``rows`` phrasings each."""
    ranges: list[tuple[int, int]] = []
    first, count = 0, 0
    for position, entry in enumerate(entries):
        count += 1 + len(entry.alternates)
        if count >= rows:
            ranges.append((first, position + 1))
            first, count = position + 1, 0
    if first < len(entries):
        ranges.append((first, len(entries)))
    return ranges


class MatchIndex:
    """An in-memory index over the phrasings of a set of published entries."""

    def __init__(
        self,
        entries: Sequence[Entry],
        synonyms: Sequence[list[str]] = (),
        thresholds: Thresholds | None = None,
        generation: int = 0,
    ) -> None:
        started = time.perf_counter()
        self.thresholds = thresholds or Thresholds()
        self.generation = generation
        self.folder = SynonymFolder(synonyms)
        self.questions: dict[int, str] = {}
        for entry in entries:
            assert entry.id is not None
            self.questions[entry.id] = entry.question
        self.entry_slot = {entry_id: slot for slot, entry_id in enumerate(self.questions)}
        self.texts: list[str] = []
        row_slot: list[int] = []
        phrasings, documents = PostingsBuilder(), ForwardBuilder()
        for first, last in _chunks(entries, BUILD_CHUNK_ROWS):
            texts, slots = self._distinct_phrasings(entries[first:last], first)
            self.texts.extend(texts)
            row_slot.extend(slots)
            bits = row_bits(len(texts))
            keys = sorted_keys(*feature_codes(texts), bits)
            phrasings.add(keys, bits, len(texts))
            # An entry's document: the features of all its phrasings, keywords and the
            # start of its answer. Slots never decrease with rows, so (code, slot) keys
            # made from the sorted (code, row) keys stay sorted; one merge adds the rest.
            slot_bits = row_bits(last - first)
            local_slots = np.asarray(slots, dtype=np.int64) - first
            from_phrasings = distinct(
                ((keys >> bits) << slot_bits) | local_slots[keys & ((1 << bits) - 1)]
            )
            del keys
            extras = self.prepare_many(
                [
                    " ".join([*entry.keywords, entry.answer[:ANSWER_PREFIX]])
                    for entry in entries[first:last]
                ]
            )
            merged = np.concatenate(
                [from_phrasings, sorted_keys(*feature_codes(extras), slot_bits)]
            )
            merged.sort(kind="stable")
            documents.add(distinct(merged), slot_bits, last - first)
        self.row_entry = np.asarray(list(self.questions), dtype=np.int64)[
            np.asarray(row_slot, dtype=np.int64)
        ]
        self.phrasings = phrasings.build()
        self.documents = documents.build()
        self.phrasing_norm = np.power(self.phrasings.row_weight, ALPHA)
        self.typical_phrasing = float(np.median(self.phrasings.row_weight)) if self.texts else 1.0
        self.typical_document = (
            float(np.median(self.documents.row_weight)) if self.questions else 1.0
        )
        self.build_seconds = time.perf_counter() - started

    def _distinct_phrasings(
        self, entries: Sequence[Entry], first_slot: int
    ) -> tuple[list[str], list[int]]:
        """The distinct normalised phrasings of each of ``entries``, and each one's slot."""
        prepared = self.prepare_many([p for entry in entries for p in entry.phrasings()])
        texts: list[str] = []
        slots: list[int] = []
        start = 0
        for slot, entry in enumerate(entries, start=first_slot):
            end = start + 1 + len(entry.alternates)
            for phrasing in dict.fromkeys(prepared[start:end]):
                if phrasing:
                    texts.append(phrasing)
                    slots.append(slot)
            start = end
        return texts, slots

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
        codes = np.unique(feature_codes([query])[1]) if query else np.zeros(0, dtype=np.int64)
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
        document_query = self.documents.query(codes)
        if document_query is not None:
            scored, document_query_weight = document_query
            budget = min(document_query_weight, QUERY_CAP * self.typical_document)
            shared = self.documents.shared_weight(
                [self.entry_slot[entry_id] for entry_id in best], scored
            )
            for entry_id, entry_shared in zip(list(best), shared.tolist(), strict=True):
                explained[entry_id] = entry_shared / budget
                score = best[entry_id]
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
