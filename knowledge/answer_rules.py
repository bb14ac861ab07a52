"""The rules an answer's text follows, shared by the shipped content's tests and the editor's checks.

Article mentions ("第N条") must be among the entry's law references, read as articles of
the law named right before them or, for a bare "（第N条）", of the law named last before
it — the law a reader would look it up in; numbers that read as phone numbers must be
national ones (local numbers come from settings placeholders).
"""

from __future__ import annotations

import re
import unicodedata

from knowledge.entries import parse_law_ref
from knowledge.law_registry import law_named, written_law_names
from knowledge.laws import LawRef, chinese_to_int

# National numbers are facts (content README); 119, 120 and 122 are the emergency numbers.
NATIONAL_NUMBERS = frozenset(
    {
        "110",
        "96110",
        "12348",
        "12339",
        "12333",
        "12345",
        "12315",
        "119",
        "120",
        "122",
    }
)
# A number followed by one of these counts something (days, yuan, articles …): not a phone.
_COUNTING = set("年元条日天%万千百亿岁月个次倍多余块人名件号周时分秒米平亩斤克项款届层户部")
_NUMBER = re.compile(r"\d+(?:[- ]\d+)*(?:\.\d+)?")
_ISO_DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_NUMERAL = r"[0-9零〇一二两三四五六七八九十百千]+"
_ARTICLE_MENTION = re.compile(
    rf"第({_NUMERAL}(?:[、,和及与至到-]第?{_NUMERAL})*)条(?:之([一二三四五六七八九十]+))?"
)
_OTHER_LAW_BEFORE = re.compile(r"([\u4e00-\u9fff]{1,12}(?:法|条例|规定|解释|办法|通则))的?$")
_LONGEST_LAW_NAME = 60
# A law's name anywhere in a text: one of the names the registry knows, or a title in 《》
# that reads as a law. A name ending in 法 followed by 律/院/官/治/人/庭 was only the start
# of a word (劳动法律, 人民法院); 民法典人格权编 still names the 民法典.
_LAW_NAME_IN_TEXT = re.compile(
    r"《([^《》]{1,80}?(?:法|条例|规定|解释|办法|通则|决定))》"
    rf"|({'|'.join(re.escape(unicodedata.normalize('NFKC', n)) for n in written_law_names())})"
    r"(?:(?<=法)(?![律院官治人庭])|(?<!法))"
)


def phone_like_numbers(text: str) -> list[str]:
    """Numbers in ``text`` that read as phone numbers other than the national ones.

    Chinese service numbers have 3 digits (1xx) or 5 (1xxxx, 95xxx, 96xxx); landlines,
    mobiles and 400 numbers have 7 or more. Four-digit numbers (years, 1314) are not
    phones, nor is anything counting (followed by 年/元/条 …), an ordinal (第) or money.
    """
    text = unicodedata.normalize("NFKC", text)
    found = []
    for match in _NUMBER.finditer(text):
        number = match[0]
        digits = re.sub(r"\D", "", number)
        before = text[match.start() - 1 : match.start()]
        after = text[match.end() : match.end() + 1]
        if (
            digits in NATIONAL_NUMBERS
            or "." in number
            or before in {"第", "¥", "$"}
            or after in _COUNTING
            or _ISO_DATE.fullmatch(number)
        ):
            continue
        if len(digits) >= 7 or (len(digits) in (3, 5) and digits[0] in "19"):
            found.append(number)
    return found


def _law_named_before(prefix: str) -> str | None:
    """The law named right before an article mention, if any (shipped or not).

    A shipped law may be named by its short name, full title or an alias; the short
    name is returned. Another law comes back as written.
    """
    prefix = prefix.removesuffix("的")
    bracketed = re.search(r"《((?:[^《》]|《[^《》]*》){1,80})》$", prefix)
    if bracketed:
        return law_named(bracketed[1]) or bracketed[1].removeprefix("中华人民共和国")
    for length in range(min(len(prefix), _LONGEST_LAW_NAME), 0, -1):
        law = law_named(prefix[-length:])
        if law is not None:
            return law
    other = _OTHER_LAW_BEFORE.search(prefix)
    return other[1] if other else None


def _law_named_last(prefix: str) -> str | None:
    """The law named last in ``prefix`` (its short name if shipped, else as written), if any."""
    names = list(_LAW_NAME_IN_TEXT.finditer(prefix))
    if not names:
        return None
    written = names[-1][1] or names[-1][2]
    return law_named(written) or written.removeprefix("中华人民共和国")


def article_mention_problems(answer: str, law_refs: list[str]) -> list[str]:
    """Every "第N条" in ``answer`` that is not one of ``law_refs``, described.

    The law is the one named right before the mention; for a bare mention ("（第40条）")
    it is the law named last before it, as a reader would take it, and only when the
    answer names no law before it the law of the entry's references. Lists such as
    第1077条、第1078条 or 第1062、1063条 are read item by item.
    """
    answer = unicodedata.normalize("NFKC", answer)
    cited = {parse_law_ref(ref) for ref in law_refs}
    ref_laws = list(dict.fromkeys(ref.law for ref in cited))
    problems = []
    for mention in _ARTICLE_MENTION.finditer(answer):
        prefix = answer[: mention.start()]
        named_right_before = _law_named_before(prefix)
        law = named_right_before or _law_named_last(prefix)
        # A bare number is read in the law named last before it: say so, or the editor
        # looks for the mistake in the number.
        reading = (
            ""
            if named_right_before or not law
            else f"（条号前没写法律名，按前文最后提到的{law}读）"
        )
        numbers = [
            chinese_to_int(part) for part in re.split(r"[、,和及与至到-]第?", mention[1]) if part
        ]
        # 之一 belongs to the last number of a list: 第275条、第276条之一.
        subs = [0] * (len(numbers) - 1) + [chinese_to_int(mention[2]) if mention[2] else 0]
        for number, sub in zip(numbers, subs, strict=True):
            label = LawRef("", number, sub).label
            if law is not None and law_named(law) is None:
                problems.append(f"“{law}{label}”{reading}：只能写随附法律的条号")
            elif not any(
                LawRef(candidate, number, sub) in cited
                for candidate in ([law] if law else ref_laws)
            ):
                named = law or "/".join(ref_laws) or "（未注明法律）"
                problems.append(f"“{named}{label}”{reading}不在 law_refs {law_refs} 中")
    return problems
