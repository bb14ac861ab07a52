"""Why the matcher put a message in its band, in words staff read on the "试一试" page."""

from __future__ import annotations

from knowledge.matching.matcher import Match, Thresholds

#: band → what staff read it as.
BAND_NAMES = {"answer": "直接回答", "choices": "给出选项", "fallback": "答不了（兜底回复）"}


def band_reasons(match: Match, thresholds: Thresholds) -> list[str]:
    """Each rule of :func:`knowledge.matching.matcher.band_for` as it held for ``match``.

    The first line says which rule decided the band; the others show the figures.
    """
    if not match.candidates:
        return ["没有任何条目和这句话有共同的字词，所以答不了。"]
    best = match.candidates[0].score
    runner_up = match.candidates[1].score if len(match.candidates) > 1 else 0.0
    lead = best - thresholds.runner_up_weight * runner_up
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
            match.distinct >= thresholds.distinct,
            f"第一名比第二名多解释了这句话的 {match.distinct:.0%}，"
            f"{'达到' if match.distinct >= thresholds.distinct else '不到'}要求的 "
            f"{thresholds.distinct:.0%}",
        ),
    ]
    failed = [text for held, text in checks if not held]
    if not failed:
        return ["三条都满足，所以直接回答：", *(text for _, text in checks)]
    return [
        f"最高分达到给选项的线 {thresholds.choices:.3f}，但{failed[0]}，所以给出选项：",
        *(text for _, text in checks),
    ]
