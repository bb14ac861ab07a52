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

A message longer than a short one is ranked on the question inside it with the story as
key facts, and answered only when a short reading of it (its question alone, or the whole
of it) would be answered with the entry that ranking puts first (:meth:`MatchIndex.match`).
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from knowledge.entries import Entry
from knowledge.matching.clauses import Focus, find_focus
from knowledge.matching.feature_index import ForwardBuilder, Hits, PostingsBuilder
from knowledge.matching.features import distinct, feature_codes, row_bits, sorted_keys
from knowledge.matching.normalize import SynonymFolder, clean_text, clean_texts
from knowledge.matching.options import choose_options
from knowledge.matching.question_form import answers_only_yes_or_no, asks_for_a_fact

Band = Literal["answer", "choices", "fallback"]
#: The short readings of a long message: its question alone, and the whole of it.
Reading = Literal["question", "whole"]
#: Entries' scores, and for each the share of the message its document explains.
Scores = tuple[dict[int, float], dict[int, float]]

# Scoring weights, chosen on leave-one-out runs over the entries' own alternates (see README).
# phrasing overlap = (share of the phrasing in the message)^ALPHA
#                   × (share of the message in the phrasing)^(1 - ALPHA)
ALPHA = 0.75
FUZZ_WEIGHT = 0.3  # share of rapidfuzz string similarity in a phrasing's score
DOCUMENT_WEIGHT = 0.5  # share of how much of the message the whole entry explains
ANSWER_PREFIX = 100  # characters of the answer that join the entry's document
CANDIDATE_POOL = 32  # best phrasings re-scored per message
QUESTION_POOL = 24  # best phrasings re-scored for the question of a long message
LONG_CANDIDATE_POOL = 8  # phrasings of a long message's whole, entries of its question ranked
QUERY_CAP = 0.5  # a long message weighs at most this many typical phrasings
# Share of the whole story in a long message's score; the rest is its question's.
KEY_FACTS_WEIGHT = 0.4
BUILD_CHUNK_ROWS = 8192  # phrasings whose features are extracted and sorted together


@dataclass(frozen=True)
class Thresholds:
    """Where the bands start (calibration: README, "How the matcher decides").

    A message is answered directly only when the best entry scores at least ``answer``,
    leads the runner-up by ``lead`` (after discounting ``runner_up_weight`` × its score),
    and the words only the best entry explains outweigh those only the runner-up
    explains by ``distinct`` (a share of the message) — or, scoring at least
    ``clear_best``, it leads by ``clear_lead`` (0: never): a near-verbatim phrasing whose
    runner-up explains the same words only because it is about the same thing
    ("什么是无证明城市"). Below ``choices`` it falls back.
    A long message's short reading answers it only when its ranking on question and key
    facts together also leads the runner-up by ``key_facts_lead``.
    """

    answer: float = 0.35
    lead: float = 0.12
    runner_up_weight: float = 0.8
    distinct: float = 0.1
    choices: float = 0.31
    key_facts_lead: float = 0.0
    clear_lead: float = 0.24
    clear_best: float = 0.65


#: The bands of a message longer than a short one, calibrated on long held-out alternates
#: and long stories no entry answers (``flask kb calibrate`` prints both sets): its short
#: readings must pass them to be answered, its ranking reach ``choices`` for choices.
LONG_MESSAGE_THRESHOLDS = Thresholds(
    answer=0.35, lead=0.14, distinct=0.12, choices=0.223, key_facts_lead=0.1, clear_lead=0.0
)


@dataclass(frozen=True)
class _Pool:
    """A prepared message and its features; the phrasings that share features with it
    (None when none does) and the message's side of the overlap's denominator; the
    phrasings and entries that overlap it most, best first."""

    query: str
    codes: np.ndarray
    hits: Hits | None
    scale: float
    rows: list[int]
    entries: list[int]


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
    long: bool = False  # longer than a short message: banded by the long-message rules
    # Which short reading of a long message answered it: its question alone or the whole.
    settled_by: Reading | None = None
    #: The candidates offered as numbered choices (band "choices"), best first
    #: (:func:`knowledge.matching.options.choose_options`).
    options: tuple[Candidate, ...] = ()
    #: Answered but held back to choices: the entry answers a yes/no question, the
    #: message asks for a fact (:mod:`knowledge.matching.question_form`).
    not_yes_no: bool = False

    @property
    def settled(self) -> bool:
        """Whether a long message was answered because a short reading of it agreed."""
        return self.settled_by is not None

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
        long_thresholds: Thresholds | None = None,
    ) -> None:
        started = time.perf_counter()
        self.thresholds = thresholds or Thresholds()
        self.long_thresholds = long_thresholds or LONG_MESSAGE_THRESHOLDS
        self.generation = generation
        self.folder = SynonymFolder(synonyms)
        self.questions: dict[int, str] = {}
        for entry in entries:
            assert entry.id is not None
            self.questions[entry.id] = entry.question
        self.yes_no_entries = frozenset(
            entry.id for entry in entries if answers_only_yes_or_no(entry.question, entry.answer)
        )
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
        # Phrasings are stored entry by entry: slot s owns rows slot_rows[s]:slot_rows[s + 1].
        self.slot_rows = np.searchsorted(
            np.asarray(row_slot, dtype=np.int64), np.arange(len(self.questions) + 1)
        )
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

    def _codes(self, query: str) -> np.ndarray:
        """The distinct feature codes of a prepared ``query``."""
        return np.unique(feature_codes([query])[1]) if query else np.zeros(0, dtype=np.int64)

    def rank(self, text: str, limit: int = 3) -> list[Candidate]:
        """The ``limit`` best entries for ``text``, best first (empty if nothing overlaps)."""
        focus = self._focus(text)
        if focus.is_whole:
            return self._candidates(self._scores(self._pool(focus.whole))[0], limit)
        question, whole = self._long_pools(focus)
        return self._candidates(self._long_scores(question, whole)[0][0], limit)

    def _focus(self, text: str) -> Focus:
        """The question and the whole of ``text``, normalised and with synonyms folded."""
        focus = find_focus(text)
        return replace(
            focus, question=self.folder.fold(focus.question), whole=self.folder.fold(focus.whole)
        )

    def _candidates(self, scores: dict[int, float], limit: int) -> list[Candidate]:
        """The ``limit`` best-scored entries as candidates, best first."""
        ranked = sorted(scores.items(), key=lambda item: -item[1])[:limit]
        return [
            Candidate(entry_id, self.questions[entry_id], round(min(score, 1.0), 4))
            for entry_id, score in ranked
        ]

    def _overlap(self, pool: _Pool, rows: np.ndarray) -> np.ndarray:
        """The overlap of each of ``rows`` (phrasings) with the pool's message (``ALPHA``)."""
        assert pool.hits is not None
        return pool.hits.weight_of(rows) / (self.phrasing_norm[rows] * pool.scale)

    def _best_rows(self, pool: _Pool, entry_ids: Collection[int]) -> list[int]:
        """For each of ``entry_ids``, its phrasing that overlaps the message most."""
        slots = np.asarray([self.entry_slot[entry_id] for entry_id in entry_ids], dtype=np.int64)
        firsts, lasts = self.slot_rows[slots], self.slot_rows[slots + 1]
        firsts, lengths = firsts[lasts > firsts], (lasts - firsts)[lasts > firsts]
        if len(lengths) == 0:
            return []
        # Every phrasing of every entry in one array, entry after entry.
        starts = np.cumsum(lengths) - lengths
        rows = np.repeat(firsts - starts, lengths) + np.arange(int(lengths.sum()))
        overlap = self._overlap(pool, rows)
        best = np.repeat(np.maximum.reduceat(overlap, starts), lengths)
        # The first phrasing of each entry that reaches its entry's best overlap.
        owner = np.repeat(np.arange(len(lengths)), lengths)
        top = np.flatnonzero(overlap >= best)
        return rows[top[np.unique(owner[top], return_index=True)[1]]].tolist()

    def _pool(self, query: str, size: int = CANDIDATE_POOL) -> _Pool:
        """The ``size`` phrasings a prepared ``query`` overlaps most, ready to be scored."""
        codes = self._codes(query)
        hits = self.phrasings.shared_weight(codes)
        if hits is None or len(hits.rows) == 0:
            return _Pool(query, codes, None, 1.0, [], [])
        pool = _Pool(
            query,
            codes,
            hits,
            min(hits.query_weight, QUERY_CAP * self.typical_phrasing) ** (1 - ALPHA),
            [],
            [],
        )
        hit_rows = hits.rows
        overlap = hits.weights / (self.phrasing_norm[hit_rows] * pool.scale)
        count = min(len(hit_rows), size)
        top = np.argpartition(-overlap, count - 1)[:count]
        rows = hit_rows[top[np.argsort(-overlap[top], kind="stable")]].tolist()
        entries = list(dict.fromkeys(int(self.row_entry[row]) for row in rows))
        return replace(pool, rows=rows, entries=entries)

    def _scores(self, pool: _Pool, extra: Collection[int] = ()) -> Scores:
        """Scores of the pooled entries (and of ``extra`` ones) for the pool's message,
        and for each the share of the message its document explains."""
        query, codes = pool.query, pool.codes
        if pool.hits is None:
            return dict.fromkeys(extra, 0.0), dict.fromkeys(extra, 0.0)
        pooled = set(pool.entries)
        rows = [*pool.rows, *self._best_rows(pool, [e for e in extra if e not in pooled])]
        overlaps = self._overlap(pool, np.asarray(rows, dtype=np.int64)).tolist()
        overlap = dict(zip(rows, overlaps, strict=True))
        best: dict[int, float] = dict.fromkeys(extra, 0.0)
        for row in rows:
            entry_id = int(self.row_entry[row])
            similarity = _string_similarity(query, self.texts[row])
            score = (1 - FUZZ_WEIGHT) * overlap[row] + FUZZ_WEIGHT * similarity
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
        return best, explained

    def _long_pools(self, focus: Focus) -> tuple[_Pool, _Pool]:
        """The pools of a long message's question and of the whole of it."""
        return self._pool(focus.question, QUESTION_POOL), self._pool(
            focus.whole, LONG_CANDIDATE_POOL
        )

    def _long_scores(self, question: _Pool, whole: _Pool) -> tuple[Scores, Scores, Scores]:
        """Scores of a long message (its question first, the whole story as key facts),
        and those of its question alone and of the whole of it alone.

        The question is pooled nearly as a short message would be (``QUESTION_POOL``),
        so that read alone it is banded against the runners-up a short question meets. The ``LONG_CANDIDATE_POOL`` entries it and
        the whole message overlap most are ranked, each scored on both; the question
        weighs ``1 - KEY_FACTS_WEIGHT``.
        """
        asked, asked_explained = self._scores(question, whole.entries)
        story, story_explained = self._scores(whole, question.entries[:LONG_CANDIDATE_POOL])
        scores = {
            entry_id: (1 - KEY_FACTS_WEIGHT) * asked[entry_id] + KEY_FACTS_WEIGHT * story[entry_id]
            for entry_id in story
        }
        explained = {
            entry_id: (1 - KEY_FACTS_WEIGHT) * asked_explained[entry_id]
            + KEY_FACTS_WEIGHT * story_explained[entry_id]
            for entry_id in story
        }
        return (scores, explained), (asked, asked_explained), (story, story_explained)

    def match(self, text: str) -> Match:
        """Rank ``text``, decide its band (:meth:`_banded`) and what a resident is offered.

        An answer whose entry opens with a yes or no is held back to choices when the
        message asks for a fact instead (几点, 多少, 谁 …); choices keep only the options close to the best
        (:func:`knowledge.matching.options.choose_options`) and fall back when none is.
        """
        verdict = self._banded(text)
        best = verdict.best
        if (
            verdict.band == "answer"
            and best is not None
            and best.entry_id in self.yes_no_entries
            and asks_for_a_fact(text)
        ):
            verdict = replace(verdict, band="choices", settled_by=None, not_yes_no=True)
        if verdict.band != "choices":
            return verdict
        thresholds = self.long_thresholds if verdict.long else self.thresholds
        options = choose_options(verdict.candidates, thresholds.choices, verdict.long)
        if verdict.not_yes_no:
            options = options or verdict.candidates[:1]
        return replace(verdict, band="choices" if options else "fallback", options=options)

    def _banded(self, text: str) -> Match:
        """Rank ``text`` and decide its band from the calibrated thresholds.

        A short message (up to :data:`knowledge.matching.clauses.SHORT_MESSAGE`
        characters) is banded by the short thresholds. A longer one is ranked on its
        question with the story as key facts (:meth:`_long_scores`; a message that is all
        question, on the whole of it) and
        answered directly only when a short reading agrees: its question alone, or the
        whole of it, passes the answer rules of the long-message thresholds with the
        entry the key facts put first, which leads there by ``key_facts_lead``
        (``settled_by``). Otherwise it gets choices when its
        best entry reaches their ``choices``, and falls back below it. ``distinct`` is how much more of the message the best entry explains
        than the runner-up: words both explain cancel out, so only the differences count.
        """
        focus = self._focus(text)
        if not focus.long:
            return self._verdict(*self._scores(self._pool(focus.whole)), self.thresholds)
        ranked, short_readings = self._long_readings(focus)
        if lead_of(ranked, self.long_thresholds) < self.long_thresholds.key_facts_lead:
            return ranked
        for reading, short in short_readings.items():
            if short.band == "answer" and same_best(short, ranked):
                return replace(ranked, band="answer", settled_by=reading)
        return ranked

    def long_readings(self, text: str) -> tuple[Match, dict[Reading, Match]] | None:
        """For a long message, its verdict on the long-message cut (choices or fallback)
        and the verdicts of its short readings (its question alone, the whole of it)
        under the long-message thresholds; None for a short message."""
        focus = self._focus(text)
        return self._long_readings(focus) if focus.long else None

    def _long_readings(self, focus: Focus) -> tuple[Match, dict[Reading, Match]]:
        """:meth:`long_readings` of a long message's focus."""
        if focus.is_whole:
            scores = asked = story = self._scores(self._pool(focus.whole))
        else:
            scores, asked, story = self._long_scores(*self._long_pools(focus))
        ranked = self._verdict(*scores, self.long_thresholds)
        ranked = replace(
            ranked, band="fallback" if ranked.band == "fallback" else "choices", long=True
        )
        return ranked, {
            "question": self._verdict(*asked, self.long_thresholds),
            "whole": self._verdict(*story, self.long_thresholds),
        }

    def _verdict(
        self, scores: dict[int, float], explained: dict[int, float], thresholds: Thresholds
    ) -> Match:
        """The band and best three candidates of scored entries under ``thresholds``."""
        candidates = self._candidates(scores, 3)
        distinct = 0.0
        if candidates:
            runner_up = explained[candidates[1].entry_id] if len(candidates) > 1 else 0.0
            distinct = explained[candidates[0].entry_id] - runner_up
        return Match(
            band_for(candidates, distinct, thresholds), tuple(candidates), round(distinct, 4)
        )


def lead_of(match: Match, thresholds: Thresholds) -> float:
    """How far a verdict's best candidate leads the discounted runner-up (0 if none)."""
    candidates = match.candidates
    if not candidates:
        return 0.0
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    return candidates[0].score - thresholds.runner_up_weight * runner_up


def same_best(first: Match, second: Match) -> bool:
    """Whether two verdicts put the same entry first."""
    return (
        first.best is not None
        and second.best is not None
        and (first.best.entry_id == second.best.entry_id)
    )


def _string_similarity(query: str, phrasing: str) -> float:
    """How alike two normalised texts read (0–1), lenient to a longer message around it."""
    whole = Indel.normalized_similarity(query, phrasing)
    if len(query) > len(phrasing) * 1.5:
        return max(whole, 0.9 * fuzz.partial_ratio(phrasing, query) / 100)
    return whole


def clear_lead(best: float, lead: float, thresholds: Thresholds) -> bool:
    """Whether a best score and its lead are clear enough to answer without distinct words."""
    return 0 < thresholds.clear_lead <= lead and best >= thresholds.clear_best


def band_for(candidates: Sequence[Candidate], distinct: float, thresholds: Thresholds) -> Band:
    """Answer only when the best is high and clearly ahead; choices when it is plausible."""
    if not candidates or candidates[0].score < thresholds.choices:
        return "fallback"
    best = candidates[0].score
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    lead = best - thresholds.runner_up_weight * runner_up
    if (
        best >= thresholds.answer
        and lead >= thresholds.lead
        and (distinct >= thresholds.distinct or clear_lead(best, lead, thresholds))
    ):
        return "answer"
    return "choices"
