"""Cut normalised text into the matcher's features, as integer codes.

A feature is a character, a pair of adjacent characters, or a pair of adjacent syllable
readings (so a homophone typo such as 离婚冷净期 still shares features with 离婚冷静期).
Features made only of function characters (的, 了, 怎么, 是不是 …) are left out: they say
nothing about what is asked, however small the knowledge base's idf statistics are.

A feature code is ``kind << 36 | first << 18 | second``: code points are clipped below
``_TABLE_SIZE`` and syllable ids follow them, so each part fits 18 bits and a code 38
(``CODE_BITS``), leaving 25 bits for a row number in a ``code << bits | row`` sort key.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from knowledge.matching.normalize import char_reading

CODE_BITS = 38
_PART_BITS = 18
_BIGRAM = 1 << 36
_SYLLABLE_BIGRAM = 2 << 36
_TABLE_SIZE = 0x30000

_FUNCTION_CHARS = "的了吗呢吧啊呀么什怎样是不有没在我你他她它们这那个能要会可以就都也还和与及或把被给对让为啥咋嘛哦呗"
_FUNCTION_TABLE = np.zeros(_TABLE_SIZE, dtype=bool)
_FUNCTION_TABLE[[ord(char) for char in _FUNCTION_CHARS]] = True
# 还 is "still" in 还能 / 还要 but "repay" in 不还 / 没还 (借钱不还): that pair is content.
_NEGATION_TABLE = np.zeros(_TABLE_SIZE, dtype=bool)
_NEGATION_TABLE[[ord("不"), ord("没")]] = True
_REPAY = ord("还")


def _syllable_table() -> np.ndarray:
    """Map every code point to an id shared by characters that read alike."""
    table = np.arange(_TABLE_SIZE, dtype=np.int64)
    syllable_ids: dict[str, int] = {}
    for cp in range(0x3400, 0xA000):
        reading = char_reading(chr(cp))
        if reading != chr(cp):
            table[cp] = _TABLE_SIZE + syllable_ids.setdefault(reading, len(syllable_ids))
    assert int(table.max()) < 1 << _PART_BITS
    return table


_SYLLABLES: np.ndarray | None = None
_SYLLABLES_LOCK = threading.Lock()


def syllables() -> np.ndarray:
    """The code point → syllable id table, built on first use (about 0.1 s)."""
    global _SYLLABLES
    with _SYLLABLES_LOCK:
        if _SYLLABLES is None:
            _SYLLABLES = _syllable_table()
    return _SYLLABLES


def feature_codes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All features of ``texts`` as (row, code) int64 arrays; repeats within a row remain."""
    lengths = np.fromiter((len(text) for text in texts), dtype=np.int64, count=len(texts))
    cps = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    cps = np.minimum(cps, _TABLE_SIZE - 1).astype(np.int64)
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
    function = _FUNCTION_TABLE[cps]
    repay = _NEGATION_TABLE[cps[:-1]] & (cps[1:] == _REPAY)
    pairs = (rows[:-1] == rows[1:]) & (~(function[:-1] & function[1:]) | repay)
    pair_rows = rows[:-1][pairs]
    left, right = cps[:-1][pairs], cps[1:][pairs]
    bigrams = _BIGRAM | (left << _PART_BITS) | right
    del left, right
    sounds = syllables()[cps]
    syllable_bigrams = _SYLLABLE_BIGRAM | (sounds[:-1][pairs] << _PART_BITS) | sounds[1:][pairs]
    del sounds
    words = ~function
    return (
        np.concatenate([rows[words], pair_rows, pair_rows]),
        np.concatenate([cps[words], bigrams, syllable_bigrams]),
    )


def row_bits(rows: int) -> int:
    """Bits needed for a row number below ``rows`` (at least 1)."""
    return max(1, (rows - 1).bit_length())


def sorted_keys(rows: np.ndarray, codes: np.ndarray, bits: int) -> np.ndarray:
    """The distinct (code, row) pairs as ascending ``code << bits | row`` keys."""
    if CODE_BITS + bits > 63:
        raise ValueError(f"{1 << bits} rows do not fit one sort key")
    keys = (codes << bits) | rows
    keys.sort()
    return distinct(keys)


def distinct(keys: np.ndarray) -> np.ndarray:
    """Sorted ``keys`` without repeats."""
    if len(keys) == 0:
        return keys
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])]
