"""Why the matcher put a message in its band, in words staff read on the "试一试" page."""

from __future__ import annotations

from knowledge.matching.clauses import SHORT_MESSAGE
from knowledge.matching.matcher import Match, SemanticThresholds, Thresholds, clear_lead, lead_of
from knowledge.matching.options import LONG_OPTION_SHARE, OPTION_SHARE

#: band → what staff read it as.
BAND_NAMES = {"answer": "直接回答", "choices": "给出选项", "fallback": "答不了（兜底回复）"}
#: A long message's short readings, as staff read them.
READING_NAMES = {"question": "把其中的问题单独读", "whole": "把整段话当一句短问题读"}


def band_reasons(match: Match, thresholds: Thresholds, long_thresholds: Thresholds) -> list[str]:
    """Why ``match`` got its band, first line first, then the figures.

    A short message is explained by each rule of
    :func:`knowledge.matching.matcher.band_for`; a long one (``match.long``) by the
    long-message rules of :meth:`knowledge.matching.matcher.MatchIndex.match`; one the
    semantic opinion decided, or that the lexical evidence settled without it, by the
    rules of :class:`knowledge.matching.matcher.SemanticThresholds`.
    """
    if not match.candidates:
        return ["没有任何条目和这句话有共同的字词，所以答不了。"]
    active = long_thresholds if match.long else thresholds
    if match.opinion != "unavailable" and active.semantic is not None:
        reasons = _semantic_reasons(match, active, active.semantic)
    elif match.long:
        reasons = _long_reasons(match, long_thresholds)
    else:
        reasons = _short_reasons(match, thresholds)
    overruled = _overruling_reason(match, active)
    share = LONG_OPTION_SHARE if match.long else OPTION_SHARE
    if match.band == "choices" and len(match.options) < len(match.candidates):
        scored = "（比的是字词得分）" if match.opinion == "used" else ""
        reasons.append(
            f"只列出得分达到第一名 {share:.0%} 的 {len(match.options)} 个选项{scored}，不相关的不列。"
        )
    return overruled + reasons


def _overruling_reason(match: Match, thresholds: Thresholds) -> list[str]:
    """Why an answer became choices, or choices a fallback, after the rules below."""
    if match.not_yes_no:
        return [
            "第一名的回答以“可以”“不能”这类是非判断开头，这句话却没有问“能不能、是不是”，"
            "所以不直接回答，改为请居民确认："
        ]
    if match.band == "fallback" and match.candidates[0].lexical >= thresholds.choices:
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


def _semantic_reasons(
    match: Match, thresholds: Thresholds, semantic: SemanticThresholds
) -> list[str]:
    """Why a message got its band with the semantic model at hand: which line it
    missed, or which rankings agreed and by how much."""
    opening = (
        f"这是一段长咨询（超过{SHORT_MESSAGE}个字），按问题和整段事实给条目排序。"
        if match.long
        else ""
    )
    kind = "长咨询" if match.long else ""
    if match.candidates[0].lexical < thresholds.choices:
        best = match.candidates[0].lexical
        return [
            f"{opening}最高分 {best:.3f} 低于{kind}给选项的线 {thresholds.choices:.3f}，所以答不了。"
        ]
    if match.opinion == "skipped":
        lead = lead_of(match, thresholds)
        return [
            f"{opening}字词上第一名领先第二名 {lead:.3f}，达到不必再看语义就直接回答的线 "
            f"{semantic.sure_lead:.3f}，{'本可' if match.not_yes_no else '所以'}直接回答。",
        ]
    top = match.candidates[0]
    runner_up = match.candidates[1].score if len(match.candidates) > 1 else 0.0
    lead = top.score - thresholds.runner_up_weight * runner_up
    cosine = top.cosine if top.cosine is not None else 0.0
    cosine_lead = match.cosine_lead if match.cosine_lead is not None else 0.0
    lexical_same = match.lexical_best == top.entry_id
    rankings = (
        f"综合排序第一的“{top.question}”，在语义排序中"
        f"{'也排第一' if cosine_lead >= 0 else '不排第一'}，在字词排序中"
        f"{'也排第一' if lexical_same else '不排第一'}"
    )
    if not lexical_same:
        rankings += (
            "（本规则" + ("要求" if semantic.lexical_agrees else "不要求") + "字词排序也一致）"
        )
    checks = [
        (match.agreement, rankings),
        (
            top.score >= semantic.answer,
            f"综合分（字词分 {top.lexical:.3f} 与语义相似度 {cosine:.3f} 的平均）{top.score:.3f}"
            f"{'达到' if top.score >= semantic.answer else '低于'}直接回答的线 {semantic.answer:.3f}",
        ),
        (
            lead >= semantic.lead,
            f"综合分领先第二名：{top.score:.3f} − {thresholds.runner_up_weight:g}×{runner_up:.3f}"
            f" = {lead:.3f}，{'达到' if lead >= semantic.lead else '不到'}要求的 {semantic.lead:.3f}",
        ),
        (
            cosine >= semantic.cosine,
            f"语义相似度 {cosine:.3f}{'达到' if cosine >= semantic.cosine else '低于'}要求的 "
            f"{semantic.cosine:.3f}",
        ),
    ]
    if semantic.cosine_lead > 0:
        checks.append(
            (
                cosine_lead >= semantic.cosine_lead,
                f"语义相似度领先其他候选 {cosine_lead:.3f}，"
                f"{'达到' if cosine_lead >= semantic.cosine_lead else '不到'}要求的 "
                f"{semantic.cosine_lead:.3f}",
            )
        )
    failed = [text for held, text in checks if not held]
    if match.band == "answer":
        return [f"{opening}参考了语义判断，各条都满足，所以直接回答：", *(t for _, t in checks)]
    if match.band == "fallback" or match.not_yes_no:
        return [
            f"{opening}参考了语义判断，{'但' + failed[0] if failed else '各条都满足'}：",
            *(text for _, text in checks),
        ]
    return [
        f"{opening}最高分达到{kind}给选项的线 {thresholds.choices:.3f}，参考了语义判断，"
        f"但{failed[0] if failed else '未达到直接回答的条件'}，所以给出选项：",
        *(text for _, text in checks),
    ]
