"""The shipped law texts: their articles, citations and "刑法第266条"-style asks.

Which laws ship is data (:mod:`knowledge.law_registry`). Each text is parsed on first
need and cached, so a process only pays for the laws it actually looks at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

# LAW_NAMES and law_named are also offered here, where callers found them before the split.
from knowledge.law_registry import LAW_NAMES as LAW_NAMES
from knowledge.law_registry import (
    LAWS,
    LAWS_DIR,
    NAMES,
    NOT_SHIPPED,
    fold_law_name,
    law_named_in_full,
)
from knowledge.law_registry import law_named as law_named
from knowledge.matching.normalize import to_simplified

DEFAULT_LAW = "民法典"

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_CHINESE = "零〇一二两三四五六七八九十百千"
_ARTICLE_START = re.compile(
    rf"^第([{_CHINESE}]+)条(?:之([一二三四五六七八九十]+))?[\s\u3000]+(.*)$"
)
_LAW_REF = re.compile(
    r"^(?P<law>.+?)第(?P<number>[1-9]\d*)条(?:之(?P<sub>[一二三四五六七八九十]+))?$"
)
_PUNCTUATION = re.compile(r"[\s，。？?！!、：:“”\"'《》〈〉()（）]+")
_SUB_ORDINALS = "一二三四五六七八九十"
# A part heading some texts write without "#" (附则, or 附录： before an appendix).
_BARE_HEADING = re.compile(r"^附\s*[则录件][：:]?$")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\ufeff]")


class LawRef(NamedTuple):
    """A reference to one article: 刑法第276条之一 is ("刑法", 276, 1)."""

    law: str
    number: int
    sub: int = 0

    @property
    def label(self) -> str:
        """The article as written after the law's name: 第276条之一."""
        return f"第{self.number}条" + (f"之{_SUB_ORDINALS[self.sub - 1]}" if self.sub else "")

    def __str__(self) -> str:
        return f"{self.law}{self.label}"


@dataclass(frozen=True)
class Article:
    """One article of a shipped law."""

    law: str
    number: int
    text: str
    sub: int = 0  # 第一百二十条之一 has sub 1

    @property
    def ref(self) -> LawRef:
        """This article as a law_ref."""
        return LawRef(self.law, self.number, self.sub)

    @property
    def title(self) -> str:
        """How residents see it cited: 《民法典》第1079条, 《刑法》第276条之一."""
        return f"《{self.law}》{self.ref.label}"


def chinese_to_int(text: str) -> int:
    """Read a number written in Chinese numerals (一千零七十九) or digits (1079)."""
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            total += (digit or 1) * _UNITS[char]
            digit = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + digit


# The law's name is looked up, not spelled out in the pattern: compiling some 300 names
# into one alternation cost more at start-up than the look-up ever does.
# How residents open and end a look-up: "请问民法典第1079条是什么内容", "第184条说的什么",
# "…啥意思", "…原文是什么", "…的规定", "…是怎么规定的呢". A message that goes on to ask
# something of its own ("…说老板不签合同要赔多少") is no look-up and goes to the matcher.
_ASK_OPENING = r"(?:请问|我想问一下|我想问|想问一下|问一下|帮我查一下|帮我查查|查一下|查查|我想看看|看看|看一下)?"
_ASK_ENDING = (
    r"(?:(?:的|里|里面)?"
    r"(?:(?:具体|的)?(?:内容|原文|全文|条文|规定)(?:是什么|是啥|有哪些|说的是什么|说的什么)?"
    r"|(?:是|说的是|讲的是|写的是|说的|讲的|写的|说了|讲了|写了|规定了|规定的是)(?:什么|啥)(?:内容|意思)?"
    r"|(?:是)?(?:什么|啥)意思"
    r"|(?:是)?怎么(?:规定|说|讲|写)的?"
    r"|说(?:什么|啥)))?"
    r"[吗呢啊呀吧嘛]*"
)
_ARTICLE_ASK = re.compile(
    rf"^{_ASK_OPENING}(?P<law>[^第0-9]*?)的?"
    rf"(?:(?:第(?P<n1>[0-9{_CHINESE}]+)|(?P<n2>[0-9]+))条(?:之(?P<sub>[{_SUB_ORDINALS}]+))?"
    r"|(?P<last>最后一条))"
    rf"{_ASK_ENDING}$"
)


def parse_law(markdown: str, law: str) -> dict[tuple[int, int], Article]:
    """Split a law's Markdown text (format in laws/README.md) into its articles.

    Keys are (number, sub): 第一百二十条 is (120, 0), 第一百二十条之一 (120, 1).
    A preamble before the first article, every heading and an appendix after the last
    article are left out.
    """
    body = markdown.split("<!-- INFO END -->", 1)[-1]
    articles: dict[tuple[int, int], Article] = {}
    key, paragraphs = (0, 0), []

    def close() -> None:
        if key[0]:
            articles[key] = Article(law, key[0], "\n".join(paragraphs), key[1])

    for line in _INVISIBLE.sub("", body).splitlines():
        line = line.strip()
        start = _ARTICLE_START.match(line)
        if start:
            close()
            sub = chinese_to_int(start[2]) if start[2] else 0
            key, paragraphs = (chinese_to_int(start[1]), sub), [start[3].strip()]
        elif line.startswith("#") or _BARE_HEADING.match(line):
            close()
            key, paragraphs = (0, 0), []
        elif line and key[0]:
            paragraphs.append(line)
    close()
    return articles


@cache
def law_articles(law: str) -> dict[tuple[int, int], Article]:
    """All articles of one shipped law by (number, sub), parsed on first need, then cached."""
    return parse_law((LAWS_DIR / LAWS[law].file).read_text(encoding="utf-8"), law)


def last_article_number(law: str) -> int:
    """The number of the law's last article (its count, inserted 之一 articles aside)."""
    return max(number for number, _sub in law_articles(law))


def find_article(law: str, number: int, sub: int = 0) -> Article | None:
    """The article, or None if there is no such law or article."""
    return law_articles(law).get((number, sub)) if law in LAWS else None


def parse_ref(ref: str) -> LawRef | None:
    """Read a law_ref such as "劳动合同法第82条" or "刑法第276条之一"; None if malformed.

    The law must be a shipped short name; whether the article exists is not checked.
    """
    match = _LAW_REF.match(ref.strip())
    if match is None or match["law"] not in LAWS:
        return None
    sub = chinese_to_int(match["sub"]) if match["sub"] else 0
    return LawRef(match["law"], int(match["number"]), sub)


def article_for_ref(ref: str) -> Article | None:
    """The article a law_ref like "民法典第1079条" points to, or None."""
    parsed = parse_ref(ref)
    return find_article(*parsed) if parsed else None


def answer_article_ask(text: str) -> str | None:
    """The reply to an article look-up such as "刑法第266条", or None if it is not one.

    The law may be named by its short name, full title or an alias; without one it is the
    民法典. An article the law does not have gets a reply saying how many it has; a law
    that is not shipped (婚姻法, repealed) gets a reply saying why and where to look.
    """
    compact = _PUNCTUATION.sub("", to_simplified(text)).replace("中华人民共和国", "")
    ask = _ARTICLE_ASK.match(compact)
    if ask is None:
        return None
    named = fold_law_name(ask["law"]) if ask["law"] else None
    if named and named not in NAMES and named not in NOT_SHIPPED:
        return None  # "我想知道第5条": not a law's name, so a question for the matcher
    if named in NOT_SHIPPED:
        return (
            f"{NOT_SHIPPED[named]}您可以直接说出您的问题，或者查看现行条文，例如“民法典第1079条”。"
        )
    law = NAMES[named] if named else DEFAULT_LAW
    if ask["last"]:
        number, sub = last_article_number(law), 0
    else:
        number = chinese_to_int(ask["n1"] or ask["n2"])
        sub = chinese_to_int(ask["sub"]) if ask["sub"] else 0
    article = find_article(law, number, sub)
    if article is None:
        wanted = LawRef(law, number, sub).label
        first = min(law_articles(law))[0]
        return (
            f"《{law}》共{last_article_number(law)}条，没有{wanted}。"
            f"请核对条号后再问，例如“{law}第{first}条”。"
        )
    return format_articles([article])


def format_articles(articles: list[Article]) -> str:
    """Articles as residents read them: the citation on its own line, then the text."""
    return "\n\n".join(f"{article.title}\n{article.text}" for article in articles)


def format_citation(refs: list[LawRef]) -> str:
    """The 法律依据 line: 《民法典》第1077条、第1080条；《刑法》第276条之一."""
    by_law: dict[str, list[str]] = {}
    for ref in refs:
        by_law.setdefault(ref.law, []).append(ref.label)
    return "；".join(f"《{law}》{'、'.join(labels)}" for law, labels in by_law.items())


def introduce_interpretations(text: str, seen: list[str]) -> tuple[str, list[str]]:
    """Name each judicial interpretation in full where ``text`` first mentions it.

    ``seen`` holds the interpretations the resident has already seen named in full; they
    stay short. Returns the text and the updated list. The first mention, 《民间借贷司法解释》
    or 民间借贷司法解释, becomes 《最高人民法院关于…的规定》（民间借贷司法解释）.
    """
    seen = list(seen)
    for law in LAWS.values():
        if not law.is_interpretation or law.name in seen:
            continue
        if law_named_in_full(law, text):
            seen.append(law.name)
            continue
        if law.name not in text:  # the common case, without building a pattern
            continue
        mention = re.search(rf"《?{re.escape(law.name)}》?", text)
        if mention is not None:
            text = text[: mention.start()] + law.introduction + text[mention.end() :]
            seen.append(law.name)
    return text, seen
