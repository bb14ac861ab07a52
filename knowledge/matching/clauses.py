"""Find what a long consultation asks: the clauses that carry the question.

A resident's consultation is mostly facts ("我婚前父母给我买了房子，我结婚后又卖掉了…")
with the question at the end or scattered. The message is cut into clauses at
punctuation (and, for a message typed without any, before words that open a question
such as 请问 or 那); a clause asks something when it holds a question word (吗, 能不能,
怎么办, 是否, 可以…吗, 多少, 谁, 该 …), unless the word only tells what was done
("他写了房子怎么分"). The *focus* of the message is its asking clauses, each with the
clause before it when it is too short to say what it is about ("可以吗", "怎么办"), so
that who acts against whom stays with the question. The matcher scores
entries on the focus and weighs the rest of the story only as the key facts that
decide between close entries (:mod:`knowledge.matching.matcher`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.matching.normalize import clean_text, clean_texts, to_simplified

# A message whose cleaned text is at most this long is its own question.
SHORT_MESSAGE = 30
# An asking clause shorter than this (cleaned) takes the clause before it along.
BARE_QUESTION = 12
# A focus that keeps at least this share of the message is the whole message.
WHOLE_SHARE = 0.8

_CLAUSE_BREAK = re.compile(r"[，,。.！!？?；;：:、\s…~～]+")
# Where an unpunctuated message turns to its question.
_QUESTION_OPENING = re.compile(
    r"(?=请问|想问|咨询一下|我想知道|那么|那我|那他|那她|那这|现在我|现在他)"
)
_QUESTION_MARK = re.compile(r"[？?]")
# A wh-word after 了 tells what was done ("他写了房子怎么分", "借了多少"): such a clause asks
# nothing unless it is the message's last question or a question mark or 吗 ends it.
_NARRATED = re.compile("了.*(?:怎么|怎样|如何|什么|啥|多少|谁|哪)")
_ASKS_AT_END = re.compile("(?:吗|么|呢)$")
_QUESTION_WORDS = re.compile(
    "吗|么$|呢$|能不能|可不可以|会不会|是不是|有没有|要不要|算不算|该不该|行不行|用不用|"
    "需不需要|怎么|怎样|咋|如何|是否|能否|可否|可以|多少|多久|多长|几年|几成|"
    "谁|哪|什么|啥|该|应当|应该|何时|有效没|犯法不|违法不"
)


@dataclass(frozen=True)
class Focus:
    """What a message asks (``question``) and the whole message, both cleaned.

    ``is_whole`` is true for a short message, or one whose question is most of it;
    ``long`` for one longer than ``SHORT_MESSAGE`` (cleaned), whatever its question.
    """

    question: str
    whole: str
    long: bool = False

    @property
    def is_whole(self) -> bool:
        """Whether the question is the whole message (nothing to set apart)."""
        return self.question == self.whole


def split_clauses(text: str) -> list[str]:
    """The clauses of ``text`` in order, as typed (punctuation removed, empty ones left out)."""
    clauses: list[str] = []
    for part in _CLAUSE_BREAK.split(text):
        clauses.extend(piece for piece in _QUESTION_OPENING.split(part) if piece.strip())
    return clauses


def asks(clause: str, marked: bool = False) -> bool:
    """Whether a clause carries a question (a question word, or a question mark after it)."""
    return marked or _QUESTION_WORDS.search(to_simplified(clause)) is not None


def _marked_clauses(text: str) -> list[tuple[str, bool]]:
    """Each clause with whether a question mark follows it."""
    marked: list[tuple[str, bool]] = []
    for sentence in re.split(r"(?<=[？?])", text):
        clauses = split_clauses(sentence)
        for position, clause in enumerate(clauses):
            last = position == len(clauses) - 1
            marked.append((clause, last and _QUESTION_MARK.search(sentence) is not None))
    return marked


def _narrates(clause: str, marked: bool) -> bool:
    """Whether an asking-looking clause only tells what was done (``_NARRATED``)."""
    simplified = to_simplified(clause)
    return (
        not marked
        and _NARRATED.search(simplified) is not None
        and _ASKS_AT_END.search(simplified) is None
    )


def find_focus(text: str) -> Focus:
    """The asking part of ``text`` and the whole of it, cleaned as the matcher compares them."""
    whole = clean_text(text)
    if len(whole) <= SHORT_MESSAGE:
        return Focus(whole, whole)
    clauses = _marked_clauses(text)
    cleaned = clean_texts([clause for clause, _ in clauses]) if clauses else []
    asking = [
        position
        for position, (clause, marked) in enumerate(clauses)
        if cleaned[position] and asks(clause, marked)
    ]
    chosen: set[int] = set()
    for position in asking:
        clause, marked = clauses[position]
        if position != asking[-1] and _narrates(clause, marked):
            continue
        chosen.add(position)
        if len(cleaned[position]) < BARE_QUESTION and position > 0:
            chosen.add(position - 1)
    if not chosen:
        # No question word at all: residents put the question last.
        last = max(i for i, words in enumerate(cleaned) if words) if any(cleaned) else 0
        chosen = {last, last - 1} - {-1}
    question = "".join(cleaned[i] for i in sorted(chosen))
    if not question or len(question) >= WHOLE_SHARE * len(whole):
        return Focus(whole, whole, long=True)
    return Focus(question, whole, long=True)
