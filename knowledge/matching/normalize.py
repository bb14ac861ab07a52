"""Turn what a resident typed (or said) into the canonical text the matcher compares.

Traditional → simplified (OpenCC), full-width → half-width (NFKC), lower case, common
variant spellings, no punctuation or filler words, synonyms folded to one word; and a
syllable reading of each character (pypinyin's character table) so that homophone
typos such as 离婚冷净期 or 遗瞩 read the same as what was meant.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np
import opencc
from pypinyin.pinyin_dict import pinyin_dict

_T2S = opencc.OpenCC("t2s")

# OpenCC keeps some traditional-era variants that residents and our content spell differently.
_VARIANTS = {"转帐": "转账", "帐户": "账户", "帐号": "账号", "借帐": "借账", "欠帐": "欠账"}

# Polite openings and sentence tails that carry no meaning for matching.
_FILLERS = sorted(
    [
        "请问一下",
        "请问",
        "我想问一下",
        "我想问问",
        "我想问",
        "想问一下",
        "想咨询一下",
        "咨询一下",
        "我想咨询",
        "问一下",
        "你好",
        "您好",
        "麻烦问下",
        "麻烦问一下",
        "谢谢",
        "打扰了",
        "怎么办啊",
        "怎么办呀",
        "该怎么办",
        "怎么办",
        "咋办",
        "咋整",
        "怎么弄",
        "如何是好",
        "求助",
        "急急急",
        "在线等",
        "帮帮忙",
    ],
    key=len,
    reverse=True,
)
_FILLER_RE = re.compile("|".join(map(re.escape, _FILLERS)))
# Stock endings a resident puts after what they ask about ("借条丢了能要回来吗",
# "农贸市场买到假货怎么维权"): taken off where a sentence or clause ends, so that the
# content words decide the match, in phrasings and messages alike. A message that is
# nothing but one ("怎么维权") keeps its words.
_STOCK_ENDINGS = (
    "(?:我|我们|俺)?(?:该|应该|应当|要)?(?:怎么|怎样|如何|咋)(?:去|来)?(?:维权|处理|解决|做|弄)",
    "(?:还|钱)?(?:能|可以|能不能)要(?:得)?回(?:来)?(?:吗|不)?",
    "(?:有|还有)(?:什么|啥|没有)(?:好)?(?:办法|法子)(?:吗)?",
    "(?:这样)?(?:可以|行)(?:吗|不)",
    "可不可以",
    "行不行",
)
# A sum of money ("5万块钱", "三万块", "十来万", "1500元") says how much, not what is asked:
# it becomes one word, 钱, so that two stories match on what happened, not on the figure.
_AMOUNT_RE = re.compile(
    r"[0-9零一二两三四五六七八九十百千万几]+(?:\.[0-9]+)?[多来余]?[十百千万]?(?:块钱|块|元|万)"
)
# The characters a stock ending can start with, checked first: without that look-ahead the
# pattern's optional openings made it cost more than all the other steps together.
_STOCK_ENDING_STARTS = "我俺该应要怎如咋还钱能可有什啥没这行"
_STOCK_ENDING_RE = re.compile(
    f"(?=[{_STOCK_ENDING_STARTS}])(?:"
    + "|".join(_STOCK_ENDINGS)
    + r")[啊呀呢吧哦嘛么]*(?=[^0-9a-z\u3400-\u9fff]|$)"
)
#: A lone surrogate: JSON can carry one ("\\ud83d"), but it is no character of any text.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Everything that is not a letter, digit or CJK character is punctuation to us.
_NOT_WORD = re.compile(r"[^0-9a-z\u3400-\u9fff]+")
_NOT_WORD_OR_LINE = re.compile(r"[^0-9a-z\u3400-\u9fff\n]+")
_TAIL_PARTICLES = re.compile(r"[啊呀呢吧哦嘛么吗哈]+$", re.MULTILINE)

# Polyphonic characters whose legal-domain reading differs from the table's first one.
_READING_OVERRIDES = {"还": "huan", "重": "zhong", "行": "xing", "长": "chang", "传": "chuan"}


def _nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, several times faster on typical text.

    Chinese text is NFKC already but for its full-width punctuation, letters and digits
    (U+FF01–U+FF5E) and the ideographic space; those are mapped in one numpy pass, and
    NFKC proper runs only on the lines that still need it.
    """
    if unicodedata.is_normalized("NFKC", text):
        return text
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).copy()
    cps[(cps >= 0xFF01) & (cps <= 0xFF5E)] -= 0xFEE0
    cps[cps == 0x3000] = 0x20
    text = cps.tobytes().decode("utf-32-le", "surrogatepass")
    if unicodedata.is_normalized("NFKC", text):
        return text
    return "\n".join(
        line if unicodedata.is_normalized("NFKC", line) else unicodedata.normalize("NFKC", line)
        for line in text.split("\n")
    )


def to_simplified(text: str) -> str:
    """Traditional → simplified, full-width → half-width, lower case, variant spellings fixed."""
    text = _nfkc(text).lower()
    try:
        text = _T2S.convert(text)
    except UnicodeEncodeError:  # lone surrogates: no word has them
        text = _T2S.convert(LONE_SURROGATE.sub("", text))
    for variant, standard in _VARIANTS.items():
        text = text.replace(variant, standard)
    return text


def plain_word(text: str) -> str:
    """A word as the matcher stores it: simplified, without punctuation; particles kept."""
    return _NOT_WORD.sub("", to_simplified(text))


def clean_texts(texts: Sequence[str]) -> list[str]:
    """:func:`clean_text` of many texts at once (one pass of each step over them all)."""
    joined = "\n".join(text.replace("\n", " ") for text in texts)
    simplified = _AMOUNT_RE.sub("钱", to_simplified(joined))
    unstocked = _NOT_WORD_OR_LINE.sub("", _STOCK_ENDING_RE.sub("", simplified))
    stripped = _TAIL_PARTICLES.sub("", _FILLER_RE.sub("", unstocked)).split("\n")
    if all(stripped):
        return stripped
    # A message that is nothing but filler ("你好") or a stock ending keeps its words.
    words = _NOT_WORD_OR_LINE.sub("", simplified).split("\n")
    return [kept or whole for kept, whole in zip(stripped, words, strict=True)]


def clean_text(text: str) -> str:
    """The simplified text without punctuation, spaces or filler words."""
    return clean_texts([text])[0]


class SynonymFolder:
    """Replaces every word of a synonym group by the group's first word, longest match first."""

    def __init__(self, groups: Iterable[list[str]]) -> None:
        self._canonical: dict[str, str] = {}
        for group in groups:
            words = [plain_word(word) for word in group]
            words = [word for word in words if word]
            for word in words[1:]:
                if word != words[0]:
                    self._canonical.setdefault(word, words[0])
        keys = sorted(self._canonical, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, keys))) if keys else None

    def fold(self, text: str) -> str:
        """``text`` with each synonym replaced by its canonical word."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: self._canonical[match[0]], text)

    def fold_many(self, texts: Sequence[str]) -> list[str]:
        """:meth:`fold` of many texts (without line breaks) at once."""
        if self._pattern is None or not texts:
            return list(texts)
        return self.fold("\n".join(texts)).split("\n")


@lru_cache(maxsize=65536)
def char_reading(char: str) -> str:
    """The toneless syllable of one character (the character itself if it has none)."""
    if char in _READING_OVERRIDES:
        return _READING_OVERRIDES[char]
    readings = pinyin_dict.get(ord(char))
    if not readings:
        return char
    first = unicodedata.normalize("NFD", readings.split(",")[0])
    return "".join(c for c in first if not unicodedata.combining(c)).replace("ü", "v")


def readings(text: str) -> list[str]:
    """The syllable reading of each character of ``text``."""
    return [char_reading(char) for char in text]
