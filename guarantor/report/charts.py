"""Small SVG charts. Inline SVG keeps the report one file that opens offline and prints well."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from html import escape

from guarantor import palette
from guarantor.guarantees import display

Segment = tuple[str, float]  # (series name, value)


def stacked_bars(rows: Sequence[tuple[str, Sequence[Segment]]], unit: str = "h", width: int = 900) -> str:
    """Horizontal stacked bars, one row per label, with a legend of the series."""
    label_w, bar_h, gap = 300, 20, 8
    top = max((sum(v for _, v in segs) for _, segs in rows), default=0.0) or 1.0
    scale = (width - label_w - 60) / top
    height = len(rows) * (bar_h + gap) + 34
    parts = [_open(width, height)]
    series: list[str] = []
    for r, (label, segs) in enumerate(rows):
        y = r * (bar_h + gap)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" class="lbl">{escape(_short(label, 46))}</text>'
        )
        x = float(label_w)
        for name, value in segs:
            if name not in series:
                series.append(name)
            w = value * scale
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{_color(name)}">'
                    f"<title>{escape(name)}: {value:.1f} {escape(unit)}</title></rect>"
                )
            x += w
        total = sum(v for _, v in segs)
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}" class="val">{total:.1f} {escape(unit)}</text>')
    parts.append(_legend(series, len(rows) * (bar_h + gap) + 8, label_w))
    parts.append("</svg>")
    return "".join(parts)


def donut(parts_: Sequence[Segment], caption: str, size: int = 220) -> str:
    total = sum(v for _, v in parts_) or 1.0
    cx = cy = size / 2
    r_out, r_in = size / 2 - 6, size / 2 - 44
    names = [n for n, _ in parts_]
    out = [_open(size, size + 8 + 18 * len(names))]
    angle = -math.pi / 2
    for name, value in parts_:
        if value <= 0:
            continue
        sweep = 2 * math.pi * value / total
        if sweep >= 2 * math.pi - 1e-6:
            sweep = 2 * math.pi - 1e-4
        end = angle + sweep
        large = 1 if sweep > math.pi else 0
        p = [
            (cx + r_out * math.cos(angle), cy + r_out * math.sin(angle)),
            (cx + r_out * math.cos(end), cy + r_out * math.sin(end)),
            (cx + r_in * math.cos(end), cy + r_in * math.sin(end)),
            (cx + r_in * math.cos(angle), cy + r_in * math.sin(angle)),
        ]
        out.append(
            f'<path d="M{p[0][0]:.1f},{p[0][1]:.1f} A{r_out},{r_out} 0 {large} 1 {p[1][0]:.1f},{p[1][1]:.1f} '
            f'L{p[2][0]:.1f},{p[2][1]:.1f} A{r_in},{r_in} 0 {large} 0 {p[3][0]:.1f},{p[3][1]:.1f} Z" '
            f'fill="{_color(name)}"><title>{escape(name)}: {value:.1f} ({100 * value / total:.0f}%)</title></path>'
        )
        angle = end
    out.append(f'<text x="{cx}" y="{cy + 6}" text-anchor="middle" class="big">{escape(caption)}</text>')
    for i, name in enumerate(names):
        out.append(_legend([name], size + 8 + 18 * i, 8))
    out.append("</svg>")
    return "".join(out)


def trend(points: Sequence[tuple[str, float]], unit: str = "h", width: int = 900, height: int = 160) -> str:
    """A line over time (oldest first), e.g. hours freed at each saved analysis."""
    if len(points) < 2:
        return ""
    top = max(v for _, v in points) or 1.0
    step = (width - 80) / (len(points) - 1)
    xy = [(40 + i * step, height - 30 - (v / top) * (height - 60)) for i, (_, v) in enumerate(points)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(xy))
    out = [_open(width, height), f'<path d="{path}" fill="none" stroke="{_FREED}" stroke-width="2.5"/>']
    for (x, y), (label, v) in zip(xy, points, strict=True):
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{_FREED}"><title>{escape(label)}: {v:.1f} {escape(unit)}'
            f'</title></circle><text x="{x:.1f}" y="{height - 10}" text-anchor="middle" class="lbl">'
            f'{escape(label[:10])}</text><text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" class="val">'
            f"{v:.1f}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def indicator(
    points: Sequence[tuple[str, float]],
    lines: Sequence[float],
    unit: str = "",
    marks: Sequence[tuple[str, str]] = (),
    width: int = 900,
    height: int = 170,
    precision: int | None = None,
) -> str:
    """An indicator's values on a time axis, its target as dashed lines (``lines``), and ``marks``
    (time, label): work items closed, drawn as ticks so a person can see whether the work moved it."""
    if not points:
        return ""
    times = [datetime.fromisoformat(t) for t, _ in points]
    values = [v for _, v in points]
    low, high = min([*values, *lines]), max([*values, *lines])
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1.0
    low, high = low - pad, high + pad
    start, end = times[0], times[-1]
    span = (end - start).total_seconds() or 1.0
    ticks = [(v, display.number(repr(v), unit, precision)) for v in (low + pad, (low + high) / 2, high - pad)]
    widest = max([len(text) for _, text in ticks] + [len(f"{value:g}") for value in lines])
    left, right, top, bottom = max(60, 12 + 7 * widest), width - 20, 12, height - 26  # labels never clipped

    def x(t: datetime) -> float:
        return left + (t - start).total_seconds() / span * (right - left) if len(times) > 1 else (left + right) / 2

    def y(v: float) -> float:
        return bottom - (v - low) / (high - low) * (bottom - top)

    out = [_open(width, height)]
    for tick, text in ticks:  # a value axis: the range shown, and its middle
        out.append(
            f'<line x1="{left}" x2="{right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e3e7ea"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" class="val">{escape(text)}</text>'
        )
    for when, label in marks:
        t = datetime.fromisoformat(when)
        if start <= t <= end:
            out.append(
                f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{bottom}" stroke="#5b6b77" '
                f'stroke-opacity="0.35"><title>{escape(label)} closed {escape(when[:16])}</title></line>'
            )
    for value in lines:
        out.append(
            f'<line x1="{left}" x2="{right}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="{_TARGET}" '
            f'stroke-dasharray="6 4"/><text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
            f'class="lbl">{value:g}</text>'
        )
    xy = [(x(t), y(v)) for t, v in zip(times, values, strict=True)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{px:.1f},{py:.1f}" for i, (px, py) in enumerate(xy))
    out.append(f'<path d="{path}" fill="none" stroke="{_LINE}" stroke-width="2"/>')
    for (px, py), (label, v) in zip(xy, points, strict=True):
        out.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{_LINE}"><title>{escape(label[:16])}: '
            f"{escape(display.number(repr(v), unit, precision))}</title></circle>"
        )
    out.append(
        f'<text x="{left}" y="{height - 8}" class="lbl">{escape(points[0][0][:16].replace("T", " "))}</text>'
        f'<text x="{right}" y="{height - 8}" text-anchor="end" class="lbl">'
        f"{escape(points[-1][0][:16].replace('T', ' '))}</text></svg>"
    )
    return "".join(out)


def _open(width: int, height: float) -> str:
    """An SVG that shrinks with the page but never grows past its drawn size (text stays small)."""
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height:.0f}" style="max-width:{width}px" role="img" '
        'xmlns="http://www.w3.org/2000/svg">'
    )


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


_FREED, _TARGET, _LINE = palette.COLORS["freed"], palette.COLORS["BROKEN"], palette.SERIES[0]


def _color(name: str) -> str:
    return palette.color(name)


def _legend(names: Sequence[str], y: float, x0: float) -> str:
    out, x = [], x0
    for name in names:
        out.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{_color(name)}"/>'
            f'<text x="{x + 16}" y="{y + 10}" class="lbl">{escape(name)}</text>'
        )
        x += 24 + 7 * len(name)
    return "".join(out)
