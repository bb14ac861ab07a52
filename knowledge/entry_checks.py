"""The checks an entry passes before it goes to review, shown to the editor and the reviewer.

Each check returns findings with a severity: an **error** stops the entry from being
submitted (a wrong citation, a phone number typed into the answer, a reply too long to
send); a **warning** is for the people to weigh (a phrasing that another entry would
answer, or that this entry would take from another); **info** is what the reviewer reads
beside the answer (the text of every cited article).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from sqlite_utils import Database

from knowledge.answer_rules import NATIONAL_NUMBERS, article_mention_problems, phone_like_numbers
from knowledge.entries import Entry
from knowledge.laws import article_for_ref
from knowledge.matching.features import feature_codes, row_bits, sorted_keys
from knowledge.matching.matcher import (
    LEXICAL_THRESHOLDS,
    LONG_MESSAGE_THRESHOLDS,
    LONG_SEMANTIC_THRESHOLDS,
    SEMANTIC_THRESHOLDS,
    Candidate,
    Match,
    MatchIndex,
)
from knowledge.preview import render_entry, reply_bytes
from knowledge.settings import PLACEHOLDER, SETTINGS, get_settings
from knowledge.store import content_generation, published_entries
from knowledge.synonyms import synonym_groups

Severity = Literal["error", "warning", "info"]
SEVERITY_NAMES = {"error": "错误", "warning": "提醒", "info": "参考"}

MAX_REPLY_BYTES = 2048  # WeChat refuses longer text replies
#: A new entry is checked under this id, which no stored entry has.
NEW_ENTRY_ID = -1
# A runner-up this close to the best candidate (as a share of its score) counts as near.
NEAR_SHARE = 0.85
# A phrasing another entry answers today belongs in the draft only if at least this share of
# its features (characters, sounds and their pairs) occur in the draft's other texts.
FITS_DRAFT = 0.25
# Scores this close count as level: which entry answers is then a matter of order.
TIE = 1e-9

_FIRST_PAIR_CODE = 1 << 36  # feature codes from here on are character or syllable pairs
# Another entry's phrasing is asked again only when at least this share of its character
# and sound pairs occur in the draft: with fewer, the draft cannot outscore its owner.
SHARED_PAIRS = 0.3


@dataclass(frozen=True)
class Finding:
    """One result of the checks: how serious, what kind, and what to tell staff."""

    severity: Severity
    kind: str
    message: str
    entry_id: int | None = None  # another entry the finding is about
    detail: str = ""  # e.g. the text of a cited article


def blocking(findings: list[Finding]) -> list[Finding]:
    """The findings that stop an entry from being submitted."""
    return [finding for finding in findings if finding.severity == "error"]


def law_findings(entry: Entry) -> list[Finding]:
    """Every reference exists (its text for the reviewer); every 第N条 cited is a reference."""
    findings: list[Finding] = []
    for ref in entry.law_refs:
        article = article_for_ref(ref)
        if article is None:
            findings.append(Finding("error", "law_ref", f"法律依据 {ref} 在随附法律文本中不存在。"))
        else:
            findings.append(Finding("info", "law_text", article.title, detail=article.text))
    for problem in article_mention_problems(entry.answer, entry.law_refs):
        findings.append(
            Finding(
                "error",
                "citation",
                f"答案提到的{problem}：请把它加入法律依据，或改正条号。",
            )
        )
    return findings


def text_findings(entry: Entry, settings: dict[str, str]) -> list[Finding]:
    """No unknown placeholder, no local phone number typed in, and the reply fits 2048 bytes."""
    findings: list[Finding] = []
    for name in dict.fromkeys(PLACEHOLDER.findall(entry.answer)):
        if name not in SETTINGS:
            findings.append(
                Finding(
                    "error",
                    "placeholder",
                    f"未知的占位符 {{{name}}}；可用：{'、'.join(f'{{{key}}}' for key in SETTINGS)}。",
                )
            )
    if "{" in PLACEHOLDER.sub("", entry.answer) or "}" in PLACEHOLDER.sub("", entry.answer):
        findings.append(
            Finding(
                "error",
                "placeholder",
                "答案里有不成对的花括号，或花括号里不是占位符（占位符如{办公室电话}，中间不能有空格）。",
            )
        )
    for number in dict.fromkeys(phone_like_numbers(entry.answer)):
        findings.append(
            Finding(
                "error",
                "phone",
                f"答案里写了号码 {number}：本地电话请用占位符（如{{办公室电话}}、{{调解中心电话}}），"
                "在“设置”里填写；可以直接写的只有全国统一号码"
                f"（{'、'.join(sorted(NATIONAL_NUMBERS, key=int))}）。",
            )
        )
    size = reply_bytes(render_entry(entry, settings))
    if size > MAX_REPLY_BYTES:
        findings.append(
            Finding(
                "error",
                "length",
                f"居民收到的回复有{size}字节，超过微信的{MAX_REPLY_BYTES}字节上限：请精简答案。",
            )
        )
    return findings


def _pair_keys(index: MatchIndex, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct (row, code) pairs of the character and sound pair features of ``texts``."""
    rows, codes = feature_codes(index.prepare_many(texts))
    pairs = codes >= _FIRST_PAIR_CODE
    bits = row_bits(len(texts))
    keys = sorted_keys(rows[pairs], codes[pairs], bits)
    return keys & ((1 << bits) - 1), keys >> bits


@dataclass
class _PhrasingPairs:
    """The distinct pair features of every phrasing asked about so far, row by row.

    Other entries' phrasings are the same from one check to the next: each is prepared
    and cut into features once, not once per check (~0.05 s of CPU for the shipped base).
    """

    row_of: dict[str, int]
    rows: np.ndarray
    codes: np.ndarray


_PAIRS: dict[tuple[tuple[str, ...], ...], _PhrasingPairs] = {}
_PAIRS_LOCK = threading.Lock()
# Beyond this many remembered phrasings (or synonym lists) the memo starts again.
MAX_REMEMBERED_PHRASINGS = 200_000
MAX_REMEMBERED_SYNONYM_LISTS = 4


def _phrasing_pairs(
    index: MatchIndex, synonyms: list[list[str]], phrasings: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Each of ``phrasings``' memo row, the memo's (row, pair code) arrays and its row count.

    ``index`` prepares the phrasings not yet remembered; it folds ``synonyms``.
    """
    key = tuple(tuple(group) for group in synonyms)
    with _PAIRS_LOCK:
        memo = _PAIRS.get(key)
        if memo is None or len(memo.row_of) > MAX_REMEMBERED_PHRASINGS:
            if len(_PAIRS) >= MAX_REMEMBERED_SYNONYM_LISTS:
                _PAIRS.clear()
            empty = np.zeros(0, dtype=np.int64)
            memo = _PAIRS[key] = _PhrasingPairs({}, empty, empty)
        new = [phrasing for phrasing in dict.fromkeys(phrasings) if phrasing not in memo.row_of]
        if new:
            rows, codes = _pair_keys(index, new)
            first = len(memo.row_of)
            memo.row_of.update({phrasing: first + row for row, phrasing in enumerate(new)})
            memo.rows = np.concatenate([memo.rows, rows + first])
            memo.codes = np.concatenate([memo.codes, codes])
        wanted = np.asarray([memo.row_of[phrasing] for phrasing in phrasings], dtype=np.int64)
        return wanted, memo.rows, memo.codes, len(memo.row_of)


def _sharing_rows(
    index: MatchIndex, synonyms: list[list[str]], draft: Entry, phrasings: list[str]
) -> list[int]:
    """The phrasings that have at least :data:`SHARED_PAIRS` of their pairs in the draft."""
    draft_codes = _pair_keys(index, draft.phrasings())[1]
    wanted, rows, codes, size = _phrasing_pairs(index, synonyms, phrasings)
    total = np.bincount(rows, minlength=size)[wanted]
    shared = np.bincount(rows[np.isin(codes, draft_codes)], minlength=size)[wanted]
    return np.flatnonzero((shared > 0) & (shared >= SHARED_PAIRS * total)).tolist()


def collision_findings(
    entry: Entry,
    others: list[Entry],
    synonyms: list[list[str]],
    before: MatchIndex,
    with_draft: MatchIndex | None = None,
) -> list[Finding]:
    """Warn where the entry's phrasings and other published entries' phrasings collide.

    ``entry`` is asked of an index holding it and ``others`` (published entries but its
    own published version); its phrasings must land on it, clearly. Then the phrasings
    of other entries that share enough character or sound pairs with it are asked too:
    none may now land on this entry, or lose the clear answer it had in ``before`` (the
    index residents are answered with now). ``with_draft`` is that index of ``others`` and
    the entry when the caller has it (:func:`check_entry` passes ``before`` itself when
    the entry is published unchanged); without it one is built (~0.1 s of CPU).
    """
    entry_id = NEW_ENTRY_ID if entry.id is None else entry.id
    draft = replace(entry, id=entry_id)
    if with_draft is None:
        with_draft = MatchIndex([*others, draft], synonyms)
    findings: list[Finding] = []
    for phrasing in dict.fromkeys(draft.phrasings()):
        match = with_draft.match(phrasing)
        best = match.best
        if best is not None and best.entry_id == entry_id:
            # A rival level with the draft answers it as often as the draft does.
            tied = [c for c in match.candidates[1:] if c.score >= best.score - TIE]
            if tied:
                best = tied[0]
        if best is None or best.entry_id != entry_id:
            if best is not None:
                findings.append(
                    Finding(
                        "warning",
                        "collision",
                        f"问法“{phrasing}”会被条目{best.entry_id}「{best.question}」回答，"
                        "而不是这一条：请改写或删去这个问法。",
                        best.entry_id,
                    )
                )
            continue
        today = match if with_draft is before else before.match(phrasing)
        owner = _answered_today(today, {entry_id, entry.id})
        if owner is not None and not _fits_rest_of(with_draft, draft, phrasing):
            findings.append(
                Finding(
                    "warning",
                    "belongs_elsewhere",
                    f"问法“{phrasing}”现在直接由条目{owner.entry_id}「{owner.question}」回答："
                    "它多半属于那一条，放在这里会让居民得到另一条的答复。请删去或改写。",
                    owner.entry_id,
                )
            )
        if match.not_yes_no:
            findings.append(
                Finding(
                    "warning",
                    "yes_no",
                    f"问法“{phrasing}”问的是具体情况（几点、多少、哪里、谁、什么是……），"
                    "回答却以“可以”“不能”这类是非判断开头：居民这样问只会看到“您是想问”。"
                    "请让回答开头先答这个问法，或删去这个问法。",
                )
            )
            continue
        rivals = [c for c in match.candidates[1:] if c.score >= NEAR_SHARE * best.score]
        if rivals or match.band != "answer":
            rival = rivals[0] if rivals else (match.candidates[1:] or [None])[0]
            if rival is not None:
                findings.append(
                    Finding(
                        "warning",
                        "near",
                        f"问法“{phrasing}”和条目{rival.entry_id}「{rival.question}」太接近"
                        f"（{best.score:.2f} 对 {rival.score:.2f}），居民可能只会看到选项：请写得更具体。",
                        rival.entry_id,
                    )
                )
    findings.extend(_takeovers(draft, others, synonyms, with_draft, before))
    return findings


def _answered_today(match: Match, own_ids: set[int | None]) -> Candidate | None:
    """The other entry residents get as a direct answer today (``match``), if any."""
    if match.band != "answer" or match.best is None or match.best.entry_id in own_ids:
        return None
    return match.best


def _fits_rest_of(index: MatchIndex, draft: Entry, phrasing: str) -> bool:
    """Whether enough of ``phrasing``'s features (characters, sounds, their pairs) occur in the rest.

    A phrasing that another entry answers today is a specialisation when the draft's other
    phrasings, keywords and answer speak of the same thing; one that shares almost nothing
    with them (a cooling-off question on a parrot entry) was put in the wrong entry.
    """
    rest = [text for text in draft.phrasings() if text != phrasing]
    rest.extend(draft.keywords)
    rest.append(draft.answer)
    own = np.unique(feature_codes(index.prepare_many([phrasing]))[1])
    if not len(own):
        return True
    others = feature_codes(index.prepare_many(rest))[1]
    return bool(np.isin(own, others).mean() >= FITS_DRAFT)


def _takeovers(
    draft: Entry,
    others: list[Entry],
    synonyms: list[list[str]],
    with_draft: MatchIndex,
    before: MatchIndex,
) -> list[Finding]:
    """Other entries' own phrasings that the draft would take, or blur into choices."""
    owners: list[Entry] = []
    phrasings: list[str] = []
    for other in others:
        for phrasing in other.phrasings():
            owners.append(other)
            phrasings.append(phrasing)
    if not phrasings:
        return []
    findings: list[Finding] = []
    for row in _sharing_rows(with_draft, synonyms, draft, phrasings):
        owner, phrasing = owners[row], phrasings[row]
        after = with_draft.match(phrasing)
        if after.best is None:
            continue
        if after.best.entry_id == draft.id:
            findings.append(
                Finding(
                    "warning",
                    "takeover",
                    f"条目{owner.id}「{owner.question}」的问法“{phrasing}”会改由这一条回答：请改写这一条的问法。",
                    owner.id,
                )
            )
        # On today's own index ``after`` is today's match: nothing blurs that answered.
        elif (
            after.band != "answer"
            and with_draft is not before
            and before.match(phrasing).band == "answer"
        ):
            findings.append(
                Finding(
                    "warning",
                    "blur",
                    f"条目{owner.id}「{owner.question}」的问法“{phrasing}”原来能直接回答，"
                    "加了这一条后只会给出选项：请把两条区分开。",
                    owner.id,
                )
            )
    return findings


@dataclass(frozen=True)
class CheckReport:
    """Every finding about an entry, and how long the checks took."""

    findings: list[Finding]
    seconds: float

    @property
    def errors(self) -> list[Finding]:
        """The findings that stop the entry from being submitted."""
        return blocking(self.findings)


def check_entry(db: Database, entry: Entry, live: MatchIndex) -> CheckReport:
    """Run every check on ``entry`` (a draft; ``entry.id`` None for a new one) against the store.

    ``live`` is the index residents are answered with now (``current_index``).
    """
    started = time.perf_counter()
    published = published_entries(db)
    others = [other for other in published if other.id != entry.id]
    own = next((other for other in published if other.id == entry.id), None)
    unchanged = own is not None and _matched_alike(own, entry)
    reusable = unchanged and _holds_published(db, live, published)
    findings = [
        *law_findings(entry),
        *text_findings(entry, get_settings(db)),
        *collision_findings(
            entry, others, synonym_groups(db), live, with_draft=live if reusable else None
        ),
    ]
    order = {"error": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda finding: order[finding.severity])
    return CheckReport(findings, time.perf_counter() - started)


def _matched_alike(published: Entry, draft: Entry) -> bool:
    """Whether the matcher would index ``draft`` exactly as its ``published`` version."""
    return (
        published.question == draft.question
        and published.alternates == draft.alternates
        and published.keywords == draft.keywords
        and published.answer == draft.answer
    )


def _holds_published(db: Database, index: MatchIndex, published: list[Entry]) -> bool:
    """Whether ``index`` is the default index of the store's ``published`` entries now.

    It is when it was built at the store's content generation (synonyms included), over
    the same entries in the same order, with the default thresholds: it is then the
    index :func:`collision_findings` would build of an unchanged entry and the others.
    """
    semantic = index.vectors is not None
    return (
        index.generation == content_generation(db)
        and list(index.questions.items()) == [(entry.id, entry.question) for entry in published]
        and index.thresholds == (SEMANTIC_THRESHOLDS if semantic else LEXICAL_THRESHOLDS)
        and index.long_thresholds
        == (LONG_SEMANTIC_THRESHOLDS if semantic else LONG_MESSAGE_THRESHOLDS)
    )
