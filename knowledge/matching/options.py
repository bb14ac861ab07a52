"""Which entries a resident is offered when Pufa is not sure enough to answer.

Choices help only when each option is a plausible reading of the message. The matcher
ranks its best three; this module keeps those that score close to the best (a share of
its score), so a far-ahead best is offered alone ("您是想问：…？") and an unrelated third
never shows. A short message whose best entry barely reaches the choices line, alone or
with two others scoring almost as much (nothing stands out), was off-topic far more
often than not on the calibration data, and falls back instead.

The shares were chosen on ``calibration_data/out_of_scope.txt`` and the long stories,
then checked on the labeled sets (README, "How the matcher decides"). A semantic
similarity can be added as a further condition on each option here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the matcher calls this module; it needs the type only
    from knowledge.matching.matcher import Candidate

MAX_OPTIONS = 3
#: An option must score at least this share of the best option (short messages).
OPTION_SHARE = 0.75
#: The same for long messages, whose scores lie close together above their lower line.
LONG_OPTION_SHARE = 0.6
#: A short message's best under ``choices × (1 + WEAK_MARGIN)`` is weak: offered alone or
#: among MAX_OPTIONS equals, it falls back (two close options are still offered).
WEAK_MARGIN = 0.1


def choose_options(
    candidates: Sequence[Candidate], choices_line: float, long: bool = False
) -> tuple[Candidate, ...]:
    """The candidates (best first) worth offering as numbered choices; empty: fall back.

    ``candidates`` are the matcher's ranking with scores, ``choices_line`` the score at
    which choices start for this message's length.
    """
    if not candidates or candidates[0].score < choices_line:
        return ()
    best = candidates[0].score
    share = LONG_OPTION_SHARE if long else OPTION_SHARE
    options = tuple(c for c in candidates[:MAX_OPTIONS] if c.score >= share * best)
    weak = best < choices_line * (1 + WEAK_MARGIN)
    if not long and weak and len(options) in (1, MAX_OPTIONS):
        return ()
    return options
