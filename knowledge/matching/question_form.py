"""Yes/no questions and the answers that open with a yes or a no.

An answer that opens "可以。…" or "不能，…" replies to a yes/no question; given to
"政务服务大厅几点上班" it reads as nonsense, however well the words match. So an entry
whose answer opens so and whose question asks nothing but yes/no (not "…能租吗？要注意啥？")
is not answered directly to a message that asks for a fact — when, how much or how long,
where, who, what something is (几点, 多少, 哪, 谁, 什么是, 啥意思) — without asking yes or no
(吗, 能不能, 是否, "…犯法不"); the matcher offers it as a choice instead. A statement
("物业停水停电") or a how-question ("法律援助咋申请") still gets the answer: "不能。…" or
"可以。…" followed by the how is what residents asking so need.
"""

from __future__ import annotations

import re

from knowledge.matching.normalize import to_simplified

# The first clause of an answer that is a bare yes or no: 可以 / 不能 / 一般不会 / 有效 …
_YES_NO_HEAD = re.compile(
    r"^(?:一般|原则上|通常|多数情况下)?(?:不|没)?"
    r"(?:能|可以|会|是|有|要|用|需要|算|行|对|合法|违法|犯法|有效|应该|该|必须)$"
)
_FIRST_CLAUSE = re.compile(r"[。，！；：,!;:\n]")
# 能不能, 是不是, 有没有, 可不可以, 合不合法: a character, 不/没, the same character.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
_YES_NO_WORDS = re.compile(r"吗|是否|能否|可否|有无|与否|行不|对不")
# A question closed by 不 / 没(有) / 么 ("这犯法不？"); 怎么 / 什么 / 多么 are no yes/no.
_YES_NO_ENDING = re.compile(r"(?:[不没]|没有|(?<![怎什这那多])么)[啊呀呢哦吧]*[？?。.！!\s]*$")
_CLAUSE_END = re.compile(r"[，。！？；,.!?;\n]")
# Questions for a fact that a bare yes or no does not answer.
_ASKS_FOR_A_FACT = re.compile(
    "几点|几时|什么时候|啥时候|何时|多少|多久|多长|多大|多远|哪|谁|"
    "什么是|是什么|啥是|是啥|什么意思|啥意思|咋回事|怎么回事"
)


def opens_with_yes_or_no(answer: str) -> bool:
    """Whether ``answer`` opens with a bare yes or no ("可以。", "不能，", "一般不会；")."""
    head = _FIRST_CLAUSE.split(answer.strip(), maxsplit=1)[0].strip()
    return bool(_YES_NO_HEAD.match(head))


def asks_yes_or_no(text: str) -> bool:
    """Whether ``text`` asks (somewhere) a yes/no question: 吗, A不A, 是否, "…不？"."""
    text = to_simplified(text)
    if _YES_NO_WORDS.search(text) or _A_NOT_A.search(text):
        return True
    return any(_YES_NO_ENDING.search(clause) for clause in _CLAUSE_END.split(text) if clause)


def asks_for_a_fact(text: str) -> bool:
    """Whether ``text`` asks when, how much, where, who or what something is, and not
    yes or no: a question a bare "可以。" or "不能。" does not answer."""
    text = to_simplified(text)
    return _ASKS_FOR_A_FACT.search(text) is not None and not asks_yes_or_no(text)


def answers_only_yes_or_no(question: str, answer: str) -> bool:
    """Whether an entry replies to a yes/no question only: its answer opens with a yes or
    no and every question of its standard ``question`` (split at question marks) is one."""
    if not opens_with_yes_or_no(answer):
        return False
    asked = [part for part in re.split(r"[？?]", to_simplified(question)) if part.strip()]
    return all(asks_yes_or_no(part) for part in asked)
