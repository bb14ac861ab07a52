""" "试一试": what Pufa would do with a question — the ranking, the band and why, the reply.

The dialogue runs as a dry run: no dialogue state is read or saved and no turn recorded,
so staff trying questions change nothing residents get and add nothing to the counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from bot.dialogue import Dialogue, Reply
from knowledge.matching.explain import BAND_NAMES, band_reasons
from knowledge.matching.matcher import Candidate, MatchIndex
from knowledge.turns import QUESTION_KINDS, TURN_KINDS

#: Whose state the dry run reads: a name no resident key can have (they are "wx:…" etc.).
TRYOUT_USER = "console-tryout"


@dataclass
class Tryout:
    """What the matcher and the dialogue make of one question."""

    text: str
    candidates: list[Candidate]
    band: str
    band_name: str
    reasons: list[str]
    reply: Reply
    #: Set when the dialogue answered by a fixed rule (menu, article, feedback …), not the matcher.
    rule: str = ""


def try_question(db: Database, index: MatchIndex, text: str) -> Tryout:
    """Rank ``text``, explain its band and give the exact reply a new resident would get."""
    match = index.match(text)
    reply = Dialogue(db, index, keep_state=False).respond_to_text(TRYOUT_USER, text)
    kind = reply.record.get("kind") or reply.kind
    return Tryout(
        text=text,
        candidates=list(match.candidates),
        band=match.band,
        band_name=BAND_NAMES[match.band],
        reasons=band_reasons(match, index.thresholds, index.long_thresholds),
        reply=reply,
        rule="" if kind in QUESTION_KINDS else TURN_KINDS[kind],
    )
