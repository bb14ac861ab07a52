"""The shipped law texts: parse them once, look up articles, answer "民法典第1079条"-style asks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from knowledge.matching.normalize import to_simplified

LAWS_DIR = Path(__file__).parent / "laws"
#: Short name → the file's law; the short name is what law_refs and residents use.
LAW_NAMES = ("民法典", "反电信网络诈骗法", "反有组织犯罪法", "国家安全法")
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
_ARTICLE_START = re.compile(r"^第([零〇一二两三四五六七八九十百千]+)条[\s\u3000]+(.*)$")
_NUMBER = r"[0-9零〇一二两三四五六七八九十百千]+"
_LAW_ALIASES = {
    "中华人民共和国民法典": "民法典",
    "民法典": "民法典",
    "民法": "民法典",
    "反电信网络诈骗法": "反电信网络诈骗法",
    "反电诈法": "反电信网络诈骗法",
    "反诈法": "反电信网络诈骗法",
    "反有组织犯罪法": "反有组织犯罪法",
    "国家安全法": "国家安全法",
    "国安法": "国家安全法",
}
_LAW_PATTERN = "|".join(sorted(map(re.escape, _LAW_ALIASES), key=len, reverse=True))
_ARTICLE_ASK = re.compile(
    rf"^(?:《?(?P<law>{_LAW_PATTERN})》?)?的?(?:第(?P<n1>{_NUMBER})条|(?P<n2>[0-9]+)条|(?P<last>最后一条))"
    r"(?:是什么|说的是什么|讲的是什么|写的什么|内容|原文|规定了什么|怎么规定的?|是啥)?$"
)
_PUNCTUATION = re.compile(r"[\s，。？?！!、：:“”\"']+")


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


@dataclass(frozen=True)
class Article:
    """One article of a shipped law."""

    law: str
    number: int
    text: str

    @property
    def title(self) -> str:
        """How residents see it cited: 《民法典》第1079条."""
        return f"《{self.law}》第{self.number}条"


def parse_law(markdown: str, law: str) -> dict[int, Article]:
    """Split a law's Markdown text (format in laws/README.md) into its articles."""
    body = markdown.split("<!-- INFO END -->", 1)[-1]
    articles: dict[int, Article] = {}
    number, paragraphs = 0, []
    for line in body.splitlines():
        line = line.strip()
        start = _ARTICLE_START.match(line)
        if start:
            if number:
                articles[number] = Article(law, number, "\n".join(paragraphs))
            number, paragraphs = chinese_to_int(start[1]), [start[2].strip()]
        elif line.startswith("#"):
            if number:
                articles[number] = Article(law, number, "\n".join(paragraphs))
            number, paragraphs = 0, []
        elif line and number:
            paragraphs.append(line)
    if number:
        articles[number] = Article(law, number, "\n".join(paragraphs))
    return articles


@cache
def law_articles(law: str) -> dict[int, Article]:
    """All articles of one shipped law by number (parsed once per process)."""
    if law not in LAW_NAMES:
        raise KeyError(law)
    return parse_law((LAWS_DIR / f"{law}.md").read_text(encoding="utf-8"), law)


def find_article(law: str, number: int) -> Article | None:
    """The article, or None if the law has no such article."""
    return law_articles(law).get(number) if law in LAW_NAMES else None


def article_for_ref(ref: str) -> Article | None:
    """The article a law_ref like "民法典第1079条" points to, or None."""
    match = re.fullmatch(rf"({'|'.join(LAW_NAMES)})第(\d+)条", ref)
    return find_article(match[1], int(match[2])) if match else None


def answer_article_ask(text: str) -> str | None:
    """The reply to an article look-up such as "民法典第1079条", or None if it is not one.

    An article number the law does not have gets a reply saying how many it has.
    """
    ask = _ARTICLE_ASK.match(_PUNCTUATION.sub("", to_simplified(text)))
    if ask is None:
        return None
    law = _LAW_ALIASES[ask["law"]] if ask["law"] else DEFAULT_LAW
    articles = law_articles(law)
    number = max(articles) if ask["last"] else chinese_to_int(ask["n1"] or ask["n2"])
    article = articles.get(number)
    if article is None:
        return (
            f"《{law}》共{len(articles)}条，没有第{number}条。"
            f"请核对条号后再问，例如“{law}第{min(articles)}条”。"
        )
    return format_articles([article])


def format_articles(articles: list[Article]) -> str:
    """Articles as residents read them: the citation on its own line, then the text."""
    return "\n\n".join(f"{article.title}\n{article.text}" for article in articles)
