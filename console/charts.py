"""The dashboard's charts as geometry for inline SVG: no script, no CDN, no inline style.

The templates draw ``<rect>``s from these numbers inside an SVG with a ``viewBox``, so the
chart scales to the width of a phone or a desktop; colours come from classes in
console.css (the console's Content-Security-Policy allows no inline style).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.usage import DayCount

#: band → what staff read it as, in the order bars stack (bottom first).
BANDS = {"answer": "直接回答", "choices": "给了选项", "fallback": "没答上"}


@dataclass(frozen=True)
class Segment:
    """One band's part of a bar."""

    band: str
    x: float
    y: float
    width: float
    height: float
    count: int


@dataclass
class DayBar:
    """One day's stacked bar, with its label (shown on some days only, to stay readable)."""

    day: str
    label: str
    x: float
    total: int
    top: float
    segments: list[Segment] = field(default_factory=list)


@dataclass
class DailyChart:
    """Questions per day, stacked by band, in a ``width`` × ``height`` viewBox."""

    width: int
    height: int
    plot_height: float
    peak: int
    bars: list[DayBar]


def daily_chart(days: list[DayCount], width: int = 480, height: int = 200) -> DailyChart:
    """A stacked bar per day; the tallest day fills the plot, labels every few days."""
    plot_height = height - 24.0  # room for the day labels under the bars
    # Room above the tallest bar for its count.
    plot_top = 18.0
    peak = max((day.total for day in days), default=0)
    slot = width / max(len(days), 1)
    bar_width = slot * 0.7
    label_every = max(1, round(len(days) / 7))
    bars = []
    for n, day in enumerate(days):
        x = n * slot + (slot - bar_width) / 2
        label = day.day[5:] if n % label_every == 0 else ""
        bar = DayBar(day.day, label, x + bar_width / 2, day.total, plot_height)
        top = plot_height
        for band in BANDS:
            count = getattr(day, band)
            if not count:
                continue
            size = (plot_height - plot_top) * count / peak
            top -= size
            bar.segments.append(Segment(band, x, top, bar_width, size, count))
        bar.top = top
        bars.append(bar)
    return DailyChart(width, height, plot_height, peak, bars)


def share_segments(shares: dict[str, float], width: int = 480) -> list[Segment]:
    """One horizontal bar split by ``shares`` (band → 0–1), in a ``width`` × 24 viewBox."""
    segments = []
    x = 0.0
    for band in BANDS:
        size = width * shares.get(band, 0.0)
        if size > 0:
            segments.append(Segment(band, x, 0.0, size, 24.0, round(shares[band] * 100)))
        x += size
    return segments
