"""Small SVG charts. Inline SVG keeps the report one file that opens offline and prints well."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from datetime import datetime
from html import escape

from guarantor import palette
from guarantor.guarantees import display

Segment = tuple[str, float]  # (series name, value)

# The drawn width: about the report's column, so a chart is shown near its drawn size and its 13 px
# text stays 10 px or more down to an 800 px window (tests/test_browser.py measures it).
WIDTH = 720
_EM = {**dict.fromkeys("ijlI'|!.,:; ", 0.32), **dict.fromkeys("tfr()[]-", 0.42), **dict.fromkeys("mwMW@%", 0.98)}
"""Advance widths, in em, of the narrow and the wide characters of DejaVu Sans, the widest of the
usual sans-serif faces (Linux's system-ui): a label given room for it fits in the others too."""
_LINE_H, _BAR, _GAP = 16, 22, 10
_LABEL_CHARS = 34  # a label's line, before it wraps


def stacked_bars(rows: Sequence[tuple[str, Sequence[Segment]]], unit: str = "h", width: int = WIDTH) -> str:
    """Horizontal stacked bars, one row per label, with a legend of the series. A label wraps at
    words onto a second line (a cut title reads as another outcome); each segment wide enough for
    it carries its value, and each bar its total."""
    wrapped = [_lines(label, _LABEL_CHARS) for label, _ in rows]
    totals = [_amount(sum(v for _, v in segs), unit) for _, segs in rows]
    label_w = max((_text_width(line) for lines in wrapped for line in lines), default=0.0) + 16
    value_w = max((_text_width(t) for t in totals), default=0.0) + 12  # the totals after the longest bar
    top = max((sum(v for _, v in segs) for _, segs in rows), default=0.0) or 1.0
    scale = (width - label_w - value_w) / top
    parts: list[str] = []
    series: list[str] = []
    y = 0
    for (_, segs), lines, total in zip(rows, wrapped, totals, strict=True):
        row_h = max(_BAR, _LINE_H * len(lines) + 4)
        middle = y + row_h / 2
        for i, line in enumerate(lines):
            line_y = middle + _LINE_H * (i - (len(lines) - 1) / 2) + 4.5
            parts.append(
                f'<text x="{label_w - 8:.1f}" y="{line_y:.1f}" text-anchor="end" class="lbl">{escape(line)}</text>'
            )
        x = float(label_w)
        bar_y = middle - _BAR / 2
        for name, value in segs:
            if name not in series:
                series.append(name)
            w = value * scale
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{bar_y:.1f}" width="{w:.1f}" height="{_BAR}" fill="{_color(name)}">'
                    f"<title>{escape(name)}: {escape(_amount(value, unit))}</title></rect>"
                )
                inside = _amount(value, "")
                if len(segs) > 1 and w >= _text_width(inside, 12) + 8:
                    parts.append(
                        f'<text x="{x + w / 2:.1f}" y="{middle + 4.5:.1f}" text-anchor="middle" class="in">'
                        f"{escape(inside)}</text>"
                    )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{middle + 4.5:.1f}" class="val">{escape(total)}</text>')
        y += row_h + _GAP
    parts.append(_legend(series, y + 6, label_w))
    return _open(width, y + 26) + "".join(parts) + "</svg>"


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


def trend(points: Sequence[tuple[str, float]], unit: str = "h", width: int = WIDTH, height: int = 160) -> str:
    """A line over time (oldest first), e.g. hours freed at each saved analysis. A point is dated
    and valued only where the last dated one is far enough to its left: many analyses close
    together would write their dates over each other."""
    if len(points) < 2:
        return ""
    top = max(v for _, v in points) or 1.0
    room = _text_width("2026-12-31 23:59") / 2 + 4  # half a date
    step = (width - 2 * room) / (len(points) - 1)
    xy = [(room + i * step, height - 34 - (v / top) * (height - 64)) for i, (_, v) in enumerate(points)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(xy))
    out = [_open(width, height), f'<path d="{path}" fill="none" stroke="{_FREED}" stroke-width="2.5"/>']
    shown = -float(width)
    for i, ((x, y), (label, v)) in enumerate(zip(xy, points, strict=True)):
        when = label[:16].replace("T", " ")
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{_FREED}"><title>{escape(when)}: {escape(_amount(v, unit))}'
            "</title></circle>"
        )
        last = i == len(points) - 1
        if x - shown >= 2 * room and (last or width - room - x >= 2 * room):
            shown = x
            out.append(
                f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle" class="lbl">{escape(when)}</text>'
                f'<text x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle" class="val">{escape(_amount(v, unit))}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def indicator(
    points: Sequence[tuple[str, float]],
    lines: Sequence[float],
    unit: str = "",
    marks: Sequence[tuple[str, str]] = (),
    width: int = WIDTH,
    height: int = 170,
    precision: int | None = None,
) -> str:
    """An indicator's values on a time axis, its target as dashed lines (``lines``), and ``marks``
    (time, label): work items closed, drawn as ticks so a person can see whether the work moved it.
    Values are read on the left, the target's lines are named on the right: where a target equals a
    value shown on the axis, the two would be written over each other."""
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
    targets = [(v, "target " + display.number(repr(v), unit, precision)) for v in lines]
    left = 12 + max(_text_width(text) for _, text in ticks)  # labels never clipped
    right = width - 12 - max([_text_width(text) for _, text in targets], default=0)
    top, bottom = 12, height - 26

    def x(t: datetime) -> float:
        return left + (t - start).total_seconds() / span * (right - left) if len(times) > 1 else (left + right) / 2

    def y(v: float) -> float:
        return bottom - (v - low) / (high - low) * (bottom - top)

    out = [_open(width, height)]
    for tick, text in ticks:  # a value axis: the range shown, and its middle
        out.append(
            f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e3e7ea"/>'
            f'<text x="{left - 6:.1f}" y="{y(tick) + 4:.1f}" text-anchor="end" class="val">{escape(text)}</text>'
        )
    for when, label in marks:
        t = datetime.fromisoformat(when)
        if start <= t <= end:
            out.append(
                f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{bottom}" stroke="#5b6b77" '
                f'stroke-opacity="0.35"><title>{escape(label)} closed {escape(when[:16])}</title></line>'
            )
    for value, text in targets:
        out.append(
            f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="{_TARGET}" '
            f'stroke-dasharray="6 4"/><text x="{right + 6}" y="{y(value) + 4:.1f}" class="lbl">{escape(text)}</text>'
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
        f'<text x="{left:.1f}" y="{height - 8}" class="lbl">{escape(points[0][0][:16].replace("T", " "))}</text>'
        f'<text x="{right:.1f}" y="{height - 8}" text-anchor="end" class="lbl">'
        f"{escape(points[-1][0][:16].replace('T', ' '))}</text></svg>"
    )
    return "".join(out)


def _open(width: int, height: float) -> str:
    """An SVG that shrinks with the page but never grows past its drawn size (text stays small)."""
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height:.0f}" style="max-width:{width}px" role="img" '
        'xmlns="http://www.w3.org/2000/svg">'
    )


def _lines(text: str, n: int) -> list[str]:
    """``text`` at words in lines of ``n`` characters, two at most; a longer one ends in "…" (the
    whole text is in the table beside the chart)."""
    lines = textwrap.wrap(text, n) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), n, placeholder=" …")]
    return lines


def _text_width(text: str, size: float = 13) -> float:
    """About how wide ``text`` is drawn at ``size`` px (capitals and digits 0.72 em, lower case 0.62 em)."""
    return size * sum(_EM.get(c, 0.72 if c.isupper() or c.isdigit() else 0.62) for c in text)


def _amount(value: float, unit: str) -> str:
    """``40.0 h``, ``2 items``: hours to a tenth, counts whole."""
    text = f"{value:,.0f}" if unit != "h" and float(value).is_integer() else f"{value:,.1f}"
    return display.with_unit(text, unit)


_FREED, _TARGET, _LINE = palette.COLORS["freed"], palette.COLORS["BROKEN"], palette.SERIES[0]


def _color(name: str) -> str:
    return palette.color(name)


def _legend(names: Sequence[str], y: float, x0: float) -> str:
    out, x = [], x0
    for name in names:
        out.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" fill="{_color(name)}"/>'
            f'<text x="{x + 16:.1f}" y="{y + 10:.1f}" class="lbl">{escape(name)}</text>'
        )
        x += 24 + _text_width(name)
    return "".join(out)
