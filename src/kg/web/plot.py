"""Charts drawn on the server as SVG, so that they show without JavaScript.

A line chart over ordered x values (census years: the positions follow the
years, so uneven gaps look uneven) and a horizontal grouped bar chart for
categories (survey answers, whose long labels read best on the left). Every
text is escaped; every mark has a ``<title>`` with its exact value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22")
FONT = 'font-family="system-ui, sans-serif"'
#: room for a legend entry: rows of 18 units, about 7 units a character at 12 px
LEGEND_ROW = 18
LEGEND_CHAR_WIDTH = 7
#: the bars of a bar chart share this height (viewBox units) before they get thinner;
#: thinner than the minimum, the chart grows instead
BAR_AREA = 560
BAR_THICKEST, BAR_THINNEST = 16, 9


@dataclass(frozen=True)
class SeriesData:
    name: str
    #: (category or x label, x position for line charts, value)
    points: Sequence[tuple[str, float, float]]


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def format_number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:,.2f}".rstrip("0").rstrip(".").replace(",", "\u202f")


def _legend(series: Sequence[SeriesData], x: float, y: float,
            width: float) -> tuple[list[str], float]:
    """The series' colours and names in rows above the plot; (marks, height taken)."""
    if len(series) < 2:
        return [], 0.0
    out = []
    left, row = x, 0
    for i, s in enumerate(series):
        item_w = 18 + LEGEND_CHAR_WIDTH * len(s.name) + 16
        if left > x and left + item_w > width:
            left, row = x, row + 1
        color = PALETTE[i % len(PALETTE)]
        top = y + row * LEGEND_ROW
        out.append(f'<rect x="{left}" y="{top}" width="12" height="12" fill="{color}"/>'
                   f'<text x="{left + 18}" y="{top + 10}" font-size="12" {FONT}>'
                   f'{escape(s.name)}</text>')
        left += item_w
    return ['<g class="legend">', *out, "</g>"], (row + 1) * LEGEND_ROW + 8


def line_chart(series: Sequence[SeriesData], *, title: str, y_label: str,
               width: int = 760) -> Markup:
    left, right = 80, 30
    legend, legend_height = _legend(series, left, 12, width - right)
    plot_h = 300
    top = 40 + legend_height
    height = top + plot_h + 50
    xs = sorted({p[1] for s in series for p in s.points})
    labels = {p[1]: p[0] for s in series for p in s.points}
    top_value = max((p[2] for s in series for p in s.points), default=1.0)
    ticks = nice_ticks(top_value)
    y_max = ticks[-1] or 1.0
    x_min, x_max = (xs[0], xs[-1]) if xs else (0.0, 1.0)
    span = (x_max - x_min) or 1.0
    plot_w = width - left - right

    def px(x: float) -> float:
        return round(left + (x - x_min) / span * plot_w if len(xs) > 1 else left + plot_w / 2, 1)

    def py(v: float) -> float:
        return round(top + plot_h - v / y_max * plot_h, 1)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'role="img" class="chart line-chart" aria-label="{escape(title)}">',
           f'<title>{escape(title)}</title>', *legend]
    for t in ticks:
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{py(t)}" y2="{py(t)}" '
                   f'stroke="#ddd"/><text x="{left - 8}" y="{py(t) + 4}" text-anchor="end" '
                   f'font-size="12" {FONT}>{format_number(t)}</text>')
    for x in xs:
        out.append(f'<text x="{px(x)}" y="{top + plot_h + 20}" text-anchor="middle" '
                   f'font-size="12" {FONT}>{escape(labels[x])}</text>')
    out.append(f'<text x="16" y="{top + plot_h / 2}" font-size="12" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + plot_h / 2})" {FONT}>{escape(y_label)}</text>')
    for i, s in enumerate(series):
        color = PALETTE[i % len(PALETTE)]
        points = sorted(s.points, key=lambda p: p[1])
        path = " ".join(f"{px(p[1])},{py(p[2])}" for p in points)
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2.5" points="{path}"/>')
        for label, x, v in points:
            out.append(f'<circle cx="{px(x)}" cy="{py(v)}" r="4" fill="{color}">'
                       f'<title>{escape(s.name)}, {escape(label)}: {format_number(v)}</title>'
                       '</circle>')
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(categories: Sequence[str], series: Sequence[SeriesData], *, title: str,
              y_label: str, width: int = 760) -> Markup:
    label_w = min(320, max((len(c) for c in categories), default=10) * 7 + 16)
    gap = 8
    bars = max(len(categories) * len(series), 1)
    bar_h = max(BAR_THINNEST, min(BAR_THICKEST, (BAR_AREA - gap * len(categories)) // bars))
    group_h = bar_h * len(series) + gap
    right = 70
    plot_w = width - label_w - right
    legend, legend_height = _legend(series, label_w, 8, width - right)
    top = 12 + legend_height
    height = top + group_h * len(categories) + 40
    top_value = max((p[2] for s in series for p in s.points), default=1.0)
    ticks = nice_ticks(top_value)
    x_max = ticks[-1] or 1.0

    def px(v: float) -> float:
        return round(label_w + v / x_max * plot_w, 1)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'role="img" class="chart bar-chart" aria-label="{escape(title)}">',
           f'<title>{escape(title)}</title>', *legend]
    bottom = top + group_h * len(categories)
    for t in ticks:
        out.append(f'<line x1="{px(t)}" x2="{px(t)}" y1="{top}" y2="{bottom}" stroke="#ddd"/>'
                   f'<text x="{px(t)}" y="{bottom + 16}" text-anchor="middle" font-size="12" '
                   f'{FONT}>{format_number(t)}</text>')
    out.append(f'<text x="{label_w + plot_w / 2}" y="{bottom + 34}" text-anchor="middle" '
               f'font-size="12" {FONT}>{escape(y_label)}</text>')
    for ci, category in enumerate(categories):
        y0 = top + ci * group_h
        shown = category if len(category) <= 45 else category[:44] + "…"
        out.append(f'<text x="{label_w - 8}" y="{y0 + group_h / 2 + 2}" text-anchor="end" '
                   f'font-size="12" {FONT}><title>{escape(category)}</title>{escape(shown)}'
                   '</text>')
        for si, s in enumerate(series):
            value = next((p[2] for p in s.points if p[0] == category), None)
            if value is None:
                continue
            color = PALETTE[si % len(PALETTE)]
            y = y0 + gap / 2 + si * bar_h
            out.append(f'<rect x="{label_w}" y="{y}" width="{max(px(value) - label_w, 1)}" '
                       f'height="{bar_h - 2}" fill="{color}"><title>{escape(s.name)}, '
                       f'{escape(category)}: {format_number(value)}</title></rect>'
                       f'<text x="{px(value) + 4}" y="{y + bar_h - 3}" '
                       f'font-size="{min(11, bar_h + 1)}" {FONT}>{format_number(value)}</text>')
    out.append("</svg>")
    return Markup("".join(out))


def draw(kind: str, categories: Sequence[str], series: Sequence[SeriesData], *, title: str,
         y_label: str) -> Markup:
    if kind == "line":
        return line_chart(series, title=title, y_label=y_label)
    return bar_chart(categories, series, title=title, y_label=y_label)
