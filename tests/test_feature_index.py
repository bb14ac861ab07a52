"""Feature codes and the chunk-built indexes, checked against a brute-force computation."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import knowledge.matching.feature_index as feature_index
from knowledge.matching.feature_index import ForwardBuilder, PostingsBuilder
from knowledge.matching.features import CODE_BITS, feature_codes, row_bits, sorted_keys

ALPHABET = "离婚冷静期净遗嘱瞩借钱条欠款狗咬赔偿诈骗转账的了吗是不"


def random_texts(count: int, seed: int) -> list[str]:
    """Seeded texts over a small alphabet, so that rows share many features."""
    rng = random.Random(seed)
    return ["".join(rng.choices(ALPHABET, k=rng.randint(0, 12))) for _ in range(count)]


def row_features(text: str) -> set[int]:
    """The distinct feature codes of one text."""
    return set(feature_codes([text])[1].tolist())


def build(builder: PostingsBuilder | ForwardBuilder, texts: list[str], cuts: list[int]):
    """Add ``texts`` to ``builder`` in chunks ending at ``cuts``, and build it."""
    start = 0
    for end in [*cuts, len(texts)]:
        chunk = texts[start:end]
        bits = row_bits(len(chunk))
        builder.add(sorted_keys(*feature_codes(chunk), bits), bits, len(chunk))
        start = end
    return builder.build()


def expected_weights(texts: list[str], query: str) -> tuple[list[float], float]:
    """Per row, the idf of the query's scored features it has; and the query's weight."""
    features = [row_features(text) for text in texts]
    df: dict[int, int] = {}
    for row in features:
        for code in row:
            df[code] = df.get(code, 0) + 1
    size = len(texts)
    limit = max(feature_index.COMMON_FEATURE_ROWS, int(size * feature_index.COMMON_FEATURE_SHARE))
    idf = {code: math.log1p(size / count) for code, count in df.items()}
    wanted = row_features(query)
    scored = {code for code in wanted if code in df and df[code] <= limit}
    shared = [sum(idf[code] for code in row & scored) for row in features]
    weight = sum(idf[code] for code in wanted if code in df)
    weight += sum(math.log1p(size) for code in wanted if code not in df)
    return shared, weight


QUERIES = ["离婚冷净期", "借钱不还", "狗咬了赔偿吗", "遗瞩", "天气"]


@pytest.mark.parametrize("cuts", [[], [1], [7, 8, 30], list(range(3, 60, 3))])
def test_postings_index_scores_like_brute_force(cuts: list[int]) -> None:
    texts = random_texts(60, seed=len(cuts))
    index = build(PostingsBuilder(), texts, cuts)
    for query in QUERIES:
        codes = np.unique(feature_codes([query])[1])
        shared, weight = expected_weights(texts, query)
        result = index.shared_weight(codes)
        if not any(shared):
            assert result is None or len(result.rows) == 0
            continue
        assert result is not None
        assert np.allclose(result.weight_of(np.arange(len(texts))), shared)
        assert result.rows.tolist() == [row for row, value in enumerate(shared) if value]
        assert result.query_weight == pytest.approx(weight)


@pytest.mark.parametrize("cuts", [[], [2], [5, 6, 40], list(range(4, 60, 4))])
def test_forward_index_weighs_rows_like_brute_force(cuts: list[int]) -> None:
    texts = random_texts(60, seed=10 + len(cuts))
    index = build(ForwardBuilder(), texts, cuts)
    rows = [59, 0, 31, 7, 7, 44]
    for query in QUERIES:
        shared, weight = expected_weights(texts, query)
        found = index.query(np.unique(feature_codes([query])[1]))
        if found is None:
            assert not any(shared)
            continue
        scored, query_weight = found
        assert query_weight == pytest.approx(weight)
        assert np.allclose(index.shared_weight(rows, scored), [shared[row] for row in rows])


def test_row_weights_are_the_idf_sums_of_each_row() -> None:
    texts = random_texts(40, seed=3)
    df: dict[int, int] = {}
    for text in texts:
        for code in row_features(text):
            df[code] = df.get(code, 0) + 1
    expected = [sum(math.log1p(40 / df[code]) for code in row_features(text)) for text in texts]
    postings = build(PostingsBuilder(), texts, [9, 20])
    forward = build(ForwardBuilder(), texts, [13])
    assert np.allclose(postings.row_weight, expected)
    assert np.allclose(forward.row_weight, expected)


def test_features_in_too_many_rows_are_not_scored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feature_index, "COMMON_FEATURE_ROWS", 3)
    monkeypatch.setattr(feature_index, "COMMON_FEATURE_SHARE", 0.0)
    texts = ["离婚", "离婚冷静期", "离婚协议", "离婚诉讼", "遗嘱"]
    index = build(PostingsBuilder(), texts, [2])
    found = index.shared_weight(np.unique(feature_codes(["离婚冷静期"])[1]))
    assert found is not None
    shared = found.weight_of(np.arange(len(texts)))
    # 离, 婚 and 离婚 are in four rows: only 冷静期's features count.
    assert shared[0] == 0 and shared[2] == 0 and shared[1] > 0


def test_chunks_past_65536_rows_keep_their_row_numbers() -> None:
    texts = ["离婚"] * 70_000 + ["遗嘱"]
    index = build(PostingsBuilder(), texts, [])
    found = index.shared_weight(np.unique(feature_codes(["遗嘱"])[1]))
    assert found is not None
    assert found.rows.tolist() == [70_000]


@pytest.mark.parametrize("sparse_hits", [1, 10**9])
def test_hits_are_the_same_gathered_sparsely_or_densely(
    monkeypatch: pytest.MonkeyPatch, sparse_hits: int
) -> None:
    monkeypatch.setattr(feature_index, "SPARSE_HITS", sparse_hits)
    texts = random_texts(60, seed=5)
    index = build(PostingsBuilder(), texts, [20])
    for query in QUERIES:
        shared, _weight = expected_weights(texts, query)
        found = index.shared_weight(np.unique(feature_codes([query])[1]))
        if found is not None:
            assert np.allclose(found.weight_of(np.arange(len(texts))), shared)
            assert found.weight_of(np.array([0, 59, 0])).shape == (3,)


def test_function_characters_alone_make_no_feature() -> None:
    assert row_features("的了吗") == set()
    assert len(row_features("离婚")) == 4  # 离, 婚, 离婚 and its syllables li-hun


def test_homophones_share_their_syllable_pair() -> None:
    assert row_features("冷静") & row_features("冷净") - row_features("冷")


def test_empty_input_gives_an_empty_index() -> None:
    assert build(PostingsBuilder(), [], []).shared_weight(np.array([1, 2])) is None
    forward = build(ForwardBuilder(), ["", ""], [])
    assert forward.query(np.unique(feature_codes(["离婚"])[1])) is None
    assert forward.row_weight.tolist() == [0.0, 0.0]


def test_sort_keys_refuse_rows_that_do_not_fit() -> None:
    rows, codes = feature_codes(["离婚"])
    with pytest.raises(ValueError, match="do not fit"):
        sorted_keys(rows, codes, 64 - CODE_BITS)
