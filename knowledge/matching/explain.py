"""Why the matcher put a message in its band, in words staff read on the "试一试" page."""

from __future__ import annotations

from knowledge.matching.clauses import SHORT_MESSAGE
from knowledge.matching.matcher import Match, Thresholds, clear_lead, lead_of
from knowledge.matching.options import LONG_OPTION_SHARE, OPTION_SHARE

#: band → what staff read it as.
BAND_NAMES = {"answer": "直接回答", "choices": "给出选项", "fallback": "答不了（兜底回复）"}
#: A long message's short readings, as staff read them.
READING_NAMES = {"question": "把其中的问题单独读", "whole": "把整段话当一句短问题读"}


def band_reasons(match: Match, thresholds: Thresholds, long_thresholds: Thresholds) -> list[str]:
    """Why ``match`` got its band, first line first, then the figures.

    A short message is explained by each rule of
    :func:`knowledge.matching.matcher.band_for`; a long one (``match.long``) by the
    long-message rules of :meth:`knowledge.matching.matcher.MatchIndex.match`.
    """
    if not match.candidates:
        return ["没有任何条目和这句话有共同的字词，所以答不了。"]
    if match.long:
        reasons = _long_reasons(match, long_thresholds)
    else:
        reasons = _short_reasons(match, thresholds)
    overruled = _overruling_reason(match, long_thresholds if match.long else thresholds)
    share = LONG_OPTION_SHARE if match.long else OPTION_SHARE
    if match.band == "choices" and len(match.options) < len(match.candidates):
        reasons.append(
            f"只列出得分达到第一名 {share:.0%} 的 {len(match.options)} 个选项，不相关的不列。"
        )
    return overruled + reasons


def _overruling_reason(match: Match, thresholds: Thresholds) -> list[str]:
    """Why an answer became choices, or choices a fallback, after the rules below."""
    if match.not_yes_no:
        return [
            "第一名的回答以“可以”“不能”这类是非判断开头，这句话却没有问“能不能、是不是”，"
            "所以不直接回答，改为请居民确认："
        ]
    if match.band == "fallback" and match.candidates[0].score >= thresholds.choices:
        return [
            "最高分只略高于给选项的线，而且没有哪一条明显突出（只有一条或三条分数相近），"
            "多半是问了知识库以外的事，所以不给选项、答不了："
        ]
    return []


def _long_reasons(match: Match, thresholds: Thresholds) -> list[str]:
    """Why a long message got its band."""
    best = match.candidates[0].score
    opening = f"这是一段长咨询（超过{SHORT_MESSAGE}个字）：先结合问题和整段事实给条目排序，"
    if match.settled_by is not None:
        return [
            f"{opening}再{READING_NAMES[match.settled_by]}，它满足长咨询直接回答的条件"
            f"（最高分至少 {thresholds.answer:.3f}、领先第二名 {thresholds.lead:.3f}、"
            f"多解释 {thresholds.distinct:.0%}），第一名和排序的第一名是同一条，"
            f"排序里它也领先第二名至少 {thresholds.key_facts_lead:.3f}，所以直接回答。",
        ]
    if best < thresholds.choices:
        return [
            f"{opening}最高分 {best:.3f} 低于长咨询给选项的线 {thresholds.choices:.3f}，所以答不了。"
        ]
    lead = lead_of(match, thresholds)
    if lead < thresholds.key_facts_lead:
        return [
            f"{opening}最高分 {best:.3f} 达到长咨询给选项的线 {thresholds.choices:.3f}；"
            f"但结合全段事实，第一名只领先第二名 {lead:.3f}，不到 {thresholds.key_facts_lead:.3f}，"
            "分不清是哪一条，所以给出选项。",
        ]
    return [
        f"{opening}最高分 {best:.3f} 达到长咨询给选项的线 {thresholds.choices:.3f}；"
        "但无论把其中的问题单独读，还是把整段话当一句短问题读，都没有以排序第一的条目"
        "满足直接回答的条件，所以给出选项。",
    ]


def _short_reasons(match: Match, thresholds: Thresholds) -> list[str]:
    """Each rule of :func:`knowledge.matching.matcher.band_for` as it held for ``match``."""
    best = match.candidates[0].score
    runner_up = match.candidates[1].score if len(match.candidates) > 1 else 0.0
    lead = lead_of(match, thresholds)
    if best < thresholds.choices:
        return [
            f"最高分 {best:.3f} 低于给选项的线 {thresholds.choices:.3f}，所以答不了。",
        ]
    checks = [
        (
            best >= thresholds.answer,
            f"最高分 {best:.3f} {'达到' if best >= thresholds.answer else '低于'}"
            f"直接回答的线 {thresholds.answer:.3f}",
        ),
        (
            lead >= thresholds.lead,
            f"领先第二名：{best:.3f} − {thresholds.runner_up_weight:g}×{runner_up:.3f} = "
            f"{lead:.3f}，{'达到' if lead >= thresholds.lead else '不到'}要求的 {thresholds.lead:.3f}",
        ),
        (
            match.distinct >= thresholds.distinct or clear_lead(best, lead, thresholds),
            f"第一名比第二名多解释了这句话的 {match.distinct:.0%}，"
            f"{'达到' if match.distinct >= thresholds.distinct else '不到'}要求的 "
            f"{thresholds.distinct:.0%}"
            + (
                f"（最高分达到 {thresholds.clear_best:.2f}、领先达到 {thresholds.clear_lead:.3f}，"
                "这一条不必满足）"
                if clear_lead(best, lead, thresholds)
                else ""
            ),
        ),
    ]
    failed = [text for held, text in checks if not held]
    if not failed:
        return ["三条都满足，所以直接回答：", *(text for _, text in checks)]
    return [
        f"最高分达到给选项的线 {thresholds.choices:.3f}，但{failed[0]}，所以给出选项：",
        *(text for _, text in checks),
    ]
