"""The matcher: normalisation, typo and homophone tolerance, bands and freshness."""

from __future__ import annotations

import random
import unicodedata

import numpy as np
import pytest

from knowledge.entries import Entry
from knowledge.matching.matcher import Candidate, MatchIndex, Thresholds, band_for
from knowledge.matching.normalize import SynonymFolder, char_reading, clean_text

ENTRIES = [
    Entry(
        id=1,
        topic="marriage",
        question="离婚冷静期是多长时间",
        alternates=["协议离婚要等多久", "去民政局离婚还要冷静一个月吗"],
        answer="…",
    ),
    Entry(
        id=2,
        topic="inheritance",
        question="自己手写的遗嘱有效吗",
        alternates=["自书遗嘱需要什么条件", "老人亲笔写的遗嘱算数吗"],
        answer="…",
    ),
    Entry(
        id=3,
        topic="contract",
        question="借钱不还可以起诉吗",
        alternates=["朋友借钱不还怎么办", "有借条对方赖账能告他吗"],
        answer="…",
    ),
    Entry(
        id=4,
        topic="antifraud",
        question="接到自称公安的电话让转账到安全账户怎么办",
        alternates=["警察打电话说我涉嫌洗钱要转账", "有人冒充公安局让我把钱转到安全账户"],
        answer="…",
    ),
    Entry(
        id=5,
        topic="tort",
        question="被邻居家的狗咬了谁负责",
        alternates=["狗咬人主人要赔偿吗", "被狗咬伤了能要医药费吗"],
        answer="…",
    ),
]


@pytest.fixture(scope="module")
def index() -> MatchIndex:
    """An index over five entries with two synonym groups."""
    return MatchIndex(ENTRIES, [["借钱", "借款"], ["老人", "老年人"]])


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("請問離婚冷靜期是多長時間？", "离婚冷静期是多长时间"),
        ("ＡＢＣ１２３，转帐", "abc123转账"),
        ("我想问一下，借钱不还怎么办啊", "借钱不还"),
        ("你好", "你好"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean


def test_synonyms_fold_to_the_first_word() -> None:
    folder = SynonymFolder([["老人", "老年人", "老年"], ["借条", "欠条"]])
    assert folder.fold("老年人写了欠条") == "老人写了借条"


def test_homophones_share_a_reading() -> None:
    assert char_reading("净") == char_reading("静") == "jing"
    assert char_reading("还") == "huan"


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("離婚冷靜期是多長時間", 1),  # traditional characters
        ("离婚冷净期多久", 1),  # homophone typo
        ("自己手写的遗瞩有效吗", 2),  # homophone typo
        ("俺爹亲笔写的遗嘱算不算数", 2),
        ("我朋友借款三万一直赖账不还能起诉他吗", 3),  # synonym + run-on
        ("刚才有个警察打电话说我涉嫌洗钱，让我把钱转到安全账户，是真的吗", 4),
        ("我被邻居的狗咬伤了，医药费谁出", 5),
    ],
)
def test_residents_phrasings_rank_the_right_entry_first(
    index: MatchIndex, text: str, entry_id: int
) -> None:
    assert index.rank(text, limit=1)[0].entry_id == entry_id


@pytest.mark.parametrize("text", ["今天天气怎么样", "推荐个饭店", "泰山门票多少钱", "哈哈哈"])
def test_out_of_scope_is_never_answered_directly(index: MatchIndex, text: str) -> None:
    assert index.match(text).band != "answer"


def test_clear_question_is_answered(index: MatchIndex) -> None:
    match = index.match("离婚冷静期是多长时间？")
    assert match.band == "answer" and match.best is not None and match.best.entry_id == 1


def test_empty_and_symbol_only_text_fall_back(index: MatchIndex) -> None:
    assert index.match("").band == "fallback"
    assert index.match("？？？！！").band == "fallback"
    assert index.match("😀😀").band == "fallback"


def test_empty_index_falls_back() -> None:
    assert MatchIndex([]).match("离婚冷静期").band == "fallback"


def test_entries_without_words_are_indexed_without_features() -> None:
    blank = Entry(id=9, topic="marriage", question="？？？", alternates=["!!"], answer="。")
    assert MatchIndex([blank]).match("离婚冷静期").band == "fallback"
    index = MatchIndex([blank, *ENTRIES])
    assert index.match("离婚冷静期是多长时间").best.entry_id == 1


def test_bands_follow_the_thresholds() -> None:
    thresholds = Thresholds(answer=0.6, lead=0.1, runner_up_weight=1.0, distinct=0.1, choices=0.3)
    high, close, far = Candidate(1, "q", 0.7), Candidate(2, "r", 0.65), Candidate(2, "r", 0.5)
    assert band_for([], 0.0, thresholds) == "fallback"
    assert band_for([Candidate(1, "q", 0.29)], 1.0, thresholds) == "fallback"
    assert band_for([high, close], 0.5, thresholds) == "choices"
    assert band_for([high, far], 0.5, thresholds) == "answer"
    assert band_for([high, far], 0.05, thresholds) == "choices"
    assert band_for([Candidate(1, "q", 0.5)], 1.0, thresholds) == "choices"


def test_an_index_built_in_small_chunks_matches_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    import knowledge.matching.matcher as matcher

    whole = MatchIndex(ENTRIES, [["借钱", "借款"]])
    # One or two entries per chunk: every feature's postings span several chunks.
    monkeypatch.setattr(matcher, "BUILD_CHUNK_ROWS", 4)
    chunked = MatchIndex(ENTRIES, [["借钱", "借款"]])
    assert len(chunked.documents._chunks) > 2
    assert np.array_equal(whole.phrasings.postings, chunked.phrasings.postings)
    assert np.allclose(whole.phrasings.row_weight, chunked.phrasings.row_weight)
    assert np.allclose(whole.documents.row_weight, chunked.documents.row_weight)
    for text in ("离婚冷净期多久", "被邻居的狗咬伤了", "朋友借款不还能告吗", "今天天气怎么样"):
        assert whole.match(text) == chunked.match(text)


def test_fast_nfkc_equals_unicodedata_nfkc() -> None:
    from knowledge.matching.normalize import _nfkc

    # Full-width forms, compatibility characters (①, ㎡, ℃, ﬁ, ⼀, 﨑), combining marks,
    # Hangul jamo, lone surrogates and emoji, in random mixes and across line breaks.
    pool = [chr(cp) for cp in range(0x20, 0x7F)] + [chr(cp) for cp in range(0xFF01, 0xFF60)]
    pool += list("\u3000\u3002\uff0c①②㎡℃ﬁ⼀﨑\u0301\u0338\u1100\u1161가\ud800\udc00😀\n离婚冷静期")
    rng = random.Random(5)
    for _ in range(5000):
        text = "".join(rng.choices(pool, k=rng.randint(0, 40)))
        assert _nfkc(text) == unicodedata.normalize("NFKC", text)


def test_lone_surrogates_are_dropped_by_normalisation(index: MatchIndex) -> None:
    assert clean_text("\ud83d離婚冷靜期\udc00") == "离婚冷静期"
    assert index.match("\ud800离婚冷静期是多长时间").band == "answer"
