"""Calibrating the bands on held-out alternates and out-of-scope questions."""

from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlite_utils import Database

from knowledge.entries import Entry
from knowledge.matching.calibration import (
    LONG_MAX_OUT_OF_SCOPE,
    LONG_OUT_OF_SCOPE_FALLBACK,
    LONG_OUT_OF_SCOPE_FILE,
    Observation,
    _observe,
    by_length,
    calibrate,
    choose_thresholds,
    load_out_of_scope,
    measure,
    observe,
)
from knowledge.matching.matcher import LONG_MESSAGE_THRESHOLDS, MatchIndex, Thresholds
from knowledge.store import published_entries
from knowledge.synonyms import synonym_groups

ENTRIES = [
    Entry(
        1,
        "marriage",
        "离婚冷静期是多长时间",
        "协议离婚有30天冷静期。",
        ["协议离婚要等多久", "离婚冷静期怎么算", "冷静期三十天从哪天算"],
    ),
    Entry(
        2,
        "tort",
        "被狗咬了谁负责",
        "饲养人承担责任。",
        ["狗咬人主人赔吗", "被邻居的狗咬伤了", "狗把孩子咬了找谁"],
    ),
    Entry(
        3,
        "contract",
        "借钱不还能起诉吗",
        "可以向法院起诉。",
        ["朋友借钱不还", "欠钱不还怎么告", "借条到期不还钱"],
    ),
]


def test_observe_holds_out_each_alternate_once_and_asks_out_of_scope() -> None:
    observations = observe(ENTRIES, [], ["今天天气怎么样", "推荐个饭店"])
    assert sum(o.in_scope for o in observations) == 9
    assert sum(not o.in_scope for o in observations) == 2
    assert sum(o.top_is_right for o in observations if o.in_scope) >= 6


def _observation(best: float, runner_up: float, distinct: float, right: bool | None) -> Observation:
    return Observation(best, runner_up, distinct, right is not None, bool(right))


def test_chosen_thresholds_respect_both_caps() -> None:
    observations = [
        *[_observation(0.6, 0.2, 0.3, True) for _ in range(80)],
        *[_observation(0.35, 0.3, 0.05, True) for _ in range(15)],
        *[_observation(0.45, 0.2, 0.2, False) for _ in range(5)],
        *[_observation(0.3, 0.1, 0.1, None) for _ in range(40)],
        *[_observation(0.1, 0.05, 0.0, None) for _ in range(60)],
    ]
    result = choose_thresholds(observations, max_wrong=0.01, max_out_of_scope=0.03)
    assert result.direct_wrong <= 0.01 and result.out_of_scope_answered <= 0.03
    assert result.direct_correct == 0.8
    assert result.direct_wrong == 0 and result.out_of_scope_answered == 0


def test_shipped_thresholds_keep_the_caps_on_the_calibration_data(db: Database) -> None:
    observations = observe(
        published_entries(db),
        synonym_groups(db),
        load_out_of_scope() + load_out_of_scope(LONG_OUT_OF_SCOPE_FILE),
    )
    short, long = by_length(observations)
    assert sum(not o.in_scope for o in observations) >= 200
    assert sum(not o.in_scope for o in short) >= 90
    assert sum(not o.in_scope for o in long) >= 90
    assert sum(o.in_scope for o in long) >= 200
    shipped = measure(short, Thresholds())
    assert shipped.direct_wrong <= 0.02
    assert shipped.out_of_scope_answered <= 0.05
    assert shipped.out_of_scope_fallback >= 0.7
    shipped_long = measure(long, LONG_MESSAGE_THRESHOLDS)
    # A long message is answered on its short readings: most held-out long alternates are.
    assert shipped_long.direct_correct >= 0.5
    assert shipped_long.direct_wrong <= 0.02
    assert shipped_long.out_of_scope_answered <= LONG_MAX_OUT_OF_SCOPE
    assert shipped_long.out_of_scope_fallback >= LONG_OUT_OF_SCOPE_FALLBACK - 0.05


def test_long_messages_are_calibrated_on_their_readings() -> None:
    short_right = [_observation(0.5, 0.1, 0.3, True) for _ in range(50)]
    short_outside = [_observation(0.3, 0.1, 0.3, None) for _ in range(50)]
    # Long alternates rank low as a whole, but their question read alone scores high.
    long_right = [
        Observation(0.28, 0.1, 0.05, True, True, long=True, readings=((0.5, 0.1, 0.3),))
        for _ in range(50)
    ]
    # A long story whose question reading points at the entry its ranking put second.
    long_wrong = Observation(0.28, 0.27, 0.0, True, False, long=True, readings=((0.6, 0.1, 0.4),))
    long_outside = [Observation(0.15, 0.1, 0.1, False, False, long=True) for _ in range(50)]
    short, long = calibrate(
        [*short_right, *short_outside, *long_right, long_wrong, *long_outside],
        long_max_wrong=0.02,
    )
    assert short.in_scope == 50 and short.out_of_scope == 50
    assert long.in_scope == 51 and long.out_of_scope == 50
    # Scored on the whole, the long messages would not pass the short thresholds ...
    whole_only = [Observation(o.best, o.runner_up, o.distinct, True, True) for o in long_right]
    assert measure(whole_only, short.thresholds).direct_correct == 0
    # ... but their readings do, and the one that answers wrong is within the 2% cap.
    assert long.direct_correct == 50 / 51
    assert long.direct_wrong == 1 / 51
    # Where a long message's choices start is cut on the long stories alone.
    assert long.thresholds.choices == 0.15
    assert long.out_of_scope_fallback == 0.0


def test_the_key_facts_lead_is_chosen_when_it_lets_more_stories_be_answered() -> None:
    # Stories whose reading is clear: the right ones lead on their key facts, the wrong
    # ones (a reading pointing where the story does not) are neck and neck.
    right = [
        Observation(0.4, 0.1, 0.1, True, True, long=True, readings=((0.5, 0.3, 0.15),))
        for _ in range(60)
    ]
    wrong = [
        Observation(0.4, 0.45, 0.0, True, False, long=True, readings=((0.5, 0.3, 0.15),))
        for _ in range(10)
    ]
    outside = [Observation(0.2, 0.1, 0.1, False, False, long=True) for _ in range(40)]
    chosen = choose_thresholds([*right, *wrong, *outside], max_wrong=0.02, max_out_of_scope=0.03)
    assert chosen.thresholds.key_facts_lead > 0
    assert chosen.direct_correct == 60 / 70 and chosen.direct_wrong == 0


def test_a_reading_of_a_long_message_answers_only_what_its_ranking_put_first() -> None:
    index = MatchIndex(ENTRIES, [])
    story = "我们两口子结婚十年了，这几年一直过不到一块去，商量好了去民政局协议离婚，请问协议离婚要等多久？"
    observation = _observe(index, story, 1)
    assert observation.long and observation.top_is_right
    assert observation.readings, "the question reading agrees with the ranking"
    unrelated = _observe(index, story, 2)
    assert not unrelated.top_is_right


def test_calibrate_command_prints_thresholds(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["kb", "calibrate"])
    assert result.exit_code == 0, result.output
    assert "thresholds: Thresholds(" in result.output
    assert "long-message thresholds: Thresholds(" in result.output
    assert "direct wrong" in result.output
