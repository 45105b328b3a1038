"""Accessible, server-side SVG charts for the manager dashboard.

Each chart is static SVG plus a visually hidden data table: no script and no inline style (the CSP forbids
both), so colours are presentation attributes and site CSS can still hook into the classes. The table gives
screen-reader users and text browsers the same numbers sighted users read off the picture.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = "Noto Sans CJK JP, Noto Sans JP, sans-serif"
EMPTY = "データがありません"
TEXT, MUTED, TRACK, LIGHT_TRACK = "#1f2933", "#52606d", "#d9e2ec", "#eef2f6"
GREEN, BLUE, GREY_BLUE, RED = "#1e7b3a", "#0b5c8e", "#9fb3c8", "#b42318"

# Geometry. The SVG scales to its container (width="100%"), so one viewBox unit is container/WIDTH pixels:
# ≈0.78 px in a 310 px card on a 375 px phone, ≈1.3 px in a 520 px desktop card. A narrow viewBox keeps the
# text readable on the phone (14 units ≈ 11 px) without it looking oversized on the desktop (≈ 18 px).
WIDTH = 400  # viewBox width
PAD = 4  # outer margin on every side
GAP = 6  # between a bar (or an axis) and the text next to it
LABEL_SIZE = 15  # row labels (departments, lessons) and the line chart's axis title / marker
VALUE_SIZE = 14  # numbers, dates, legend: the smallest text, ≈ 11 px on a phone
# Row labels sit on their own line above their bars, so they get the whole width (minus the "…" that marks a cut)
# instead of a narrow left column: "お客様センター 第一グループ" and lesson titles stay readable on a phone.
LABEL_CHARS = (WIDTH - 2 * PAD) // LABEL_SIZE - 1
DATE_CHARS = 3  # x-axis labels of the line chart: "11/28" is 2.5 (half-width counts as half)
DATE_LABELS = 6  # at most this many x-axis labels, so they never collide
HALF_WIDTH_EM = 0.6  # generous average advance of a half-width glyph, for layout estimates
_ID_RE = re.compile(r"[a-z][a-z0-9-]*")


@dataclass(frozen=True, slots=True)
class BarItem:
    label: str
    value: float  # a percentage, 0–100
    note: str = ""


@dataclass(frozen=True, slots=True)
class LinePoint:
    label: str  # e.g. "11/28"
    value: float


@dataclass(frozen=True, slots=True)
class FunnelStep:
    label: str
    opened: int
    read: int
    passed: int | None  # None when the lesson has no test


@dataclass(frozen=True, slots=True)
class Chart:
    svg: Markup
    table: Markup

    def html(self) -> Markup:
        return Markup('<figure class="chart">{}{}</figure>').format(self.svg, self.table)


def _check_id(chart_id: str) -> None:
    # The id is used in id/aria-labelledby attributes; fullmatch (not $) so a trailing newline is rejected too.
    if not _ID_RE.fullmatch(chart_id):
        raise ValueError(f"chart_id must match ^[a-z][a-z0-9-]*$, got {chart_id!r}")


def _is_wide(ch: str) -> bool:
    # Ambiguous-width characters (○, ①, …) render full-width in Japanese fonts.
    return unicodedata.east_asian_width(ch) in ("W", "F", "A")


def truncate(label: str, limit: float = LABEL_CHARS) -> str:
    """Cut after ~limit full-width characters (half-width ones count as half) and mark the cut with "…"."""
    width, kept = 0.0, []
    for ch in label:
        width += 1.0 if _is_wide(ch) else 0.5
        if width > limit:
            return "".join(kept) + "…"
        kept.append(ch)
    return label


def _text_width(text: str, size: float) -> float:
    """A generous estimate of the rendered width of text in viewBox units, for keeping clear of edges."""
    return size * sum(1.0 if _is_wide(ch) else HALF_WIDTH_EM for ch in text)


# Bar chart: the bar starts at the left margin and leaves room right of a full bar for "100%".
BAR_X = PAD
BAR_W = WIDTH - BAR_X - GAP - math.ceil(_text_width("100%", VALUE_SIZE)) - PAD


def _c(v: float) -> str:
    """A coordinate with at most one decimal, to keep the markup short."""
    return f"{round(v, 1):g}"


def _num(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _pct(v: float) -> float:
    # Clamp so an upstream rounding glitch (100.0001, NaN) cannot draw outside the track.
    return min(max(v, 0.0), 100.0) if math.isfinite(v) else 0.0


def _pct_text(v: float) -> str:
    return f"{math.floor(_pct(v) + 0.5)}%"  # half-up: round() would print 62.5 as "62%"


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: int = VALUE_SIZE,
    fill: str = TEXT,
    cls: str = "chart-value",
) -> Markup:
    return Markup('<text class="{}" x="{}" y="{}" font-size="{}" text-anchor="{}" fill="{}">{}</text>').format(
        cls, _c(x), _c(y), size, anchor, fill, escape(text)
    )


def _label(
    x: float,
    y: float,
    label: str,
    *,
    anchor: str = "start",
    size: int = LABEL_SIZE,
    limit: float = LABEL_CHARS,
    cls: str = "chart-label",
) -> Markup:
    # Shortened to fit the layout; the <title> keeps the full label for hover (and the table has it too).
    return Markup('<g class="{}"><title>{}</title>{}</g>').format(
        cls, escape(label), _text(x, y, truncate(label, limit), anchor=anchor, size=size, cls="chart-label-text")
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, cls: str, tip: str = "") -> Markup:
    title = Markup("<title>{}</title>").format(tip) if tip else Markup("")
    return Markup('<rect class="{}" x="{}" y="{}" width="{}" height="{}" fill="{}">{}</rect>').format(
        cls, _c(x), _c(y), _c(w), _c(h), fill, title
    )


def _line(x1: float, y1: float, x2: float, y2: float, stroke: str, cls: str, *, dashed: bool = False) -> Markup:
    dash = Markup(' stroke-dasharray="6 4"') if dashed else Markup("")
    return Markup('<line class="{}" x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}"{}/>').format(
        cls, _c(x1), _c(y1), _c(x2), _c(y2), stroke, 2 if dashed else 1, dash
    )


def _svg(chart_id: str, kind: str, title: str, desc: str, height: float, body: Sequence[Markup]) -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg chart-{kind}" role="img" width="100%" '
        'viewBox="0 0 {w} {h}" font-family="{font}" aria-labelledby="{id}-title {id}-desc">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>'
    ).format(
        kind=kind, w=WIDTH, h=_c(height), font=FONT, id=chart_id, title=title, desc=desc, body=Markup("").join(body)
    )


def _table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Markup:
    head = Markup("").join(Markup('<th scope="col">{}</th>').format(h) for h in headers)
    body = Markup("").join(
        Markup('<tr><th scope="row">{}</th>{}</tr>').format(
            row[0], Markup("").join(Markup("<td>{}</td>").format(cell) for cell in row[1:])
        )
        for row in rows
    )
    return Markup(
        '<table class="chart-data visually-hidden"><caption>{}</caption><thead><tr>{}</tr></thead>'
        "<tbody>{}</tbody></table>"
    ).format(caption, head, body)


def _empty(chart_id: str, kind: str, title: str) -> Chart:
    svg = _svg(
        chart_id, kind, title, EMPTY, 96, [_text(WIDTH / 2, 54, EMPTY, anchor="middle", size=LABEL_SIZE, fill=MUTED)]
    )
    table = Markup(
        '<table class="chart-data visually-hidden"><caption>{}</caption><tbody><tr><td>{}</td></tr></tbody></table>'
    ).format(title, EMPTY)
    return Chart(svg, table)


def bar_chart(chart_id: str, title: str, items: Sequence[BarItem]) -> Chart:
    """Horizontal percentage bars: label above, bar on a 0–100% track below it, "63%" at the bar end."""
    _check_id(chart_id)
    if not items:
        return _empty(chart_id, "bar", title)
    # Per row: the label line, then the bar; a wider gap before the next row ties each label to its own bar.
    label_y, bar_y, bar_h, row_h = LABEL_SIZE, LABEL_SIZE + 6, 20, 52
    body: list[Markup] = []
    for i, item in enumerate(items):
        y0 = PAD + i * row_h
        mid = y0 + bar_y + bar_h / 2
        w = BAR_W * _pct(item.value) / 100
        tip = f"{item.label}: {_pct_text(item.value)}" + (f"（{item.note}）" if item.note else "")
        body += [
            _label(BAR_X, y0 + label_y, item.label),
            _rect(BAR_X, y0 + bar_y, BAR_W, bar_h, TRACK, "chart-track"),
            _rect(BAR_X, y0 + bar_y, w, bar_h, GREEN, "chart-bar", tip),
            _text(BAR_X + w + GAP, mid + VALUE_SIZE * 0.36, _pct_text(item.value)),
        ]
    best = max(items, key=lambda it: _pct(it.value))
    worst = min(items, key=lambda it: _pct(it.value))
    desc = (
        f"{len(items)}項目の割合を示す横棒グラフ。最高は{best.label}の{_pct_text(best.value)}、"
        f"最低は{worst.label}の{_pct_text(worst.value)}。"
    )
    with_notes = any(it.note for it in items)
    headers = ["項目", "割合"] + (["備考"] if with_notes else [])
    rows = [[it.label, _pct_text(it.value)] + ([it.note] if with_notes else []) for it in items]
    height = PAD + (len(items) - 1) * row_h + bar_y + bar_h + PAD
    return Chart(_svg(chart_id, "bar", title, desc, height, body), _table(title, headers, rows))


def _nice_step(raw: float) -> float:
    """Smallest round tick step ≥ raw, so the gridlines read 10, 20, 30 rather than 9.25, 18.5."""
    raw = max(raw, 1.0)  # the y axis counts people: never a fractional step
    mag = 10 ** math.floor(math.log10(raw))
    return next(
        m * mag for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * mag >= raw and float(m * mag).is_integer()
    )


def line_chart(
    chart_id: str,
    title: str,
    points: Sequence[LinePoint],
    *,
    target: float | None,
    marker_label: str | None = None,
    marker_index: int | None = None,
    y_label: str = "修了者数",
) -> Chart:
    """A cumulative line over days with an optional dashed target line and a red dashed marker (e.g. a deadline)."""
    _check_id(chart_id)
    if not points:
        return _empty(chart_id, "line", title)
    if marker_index is not None and not 0 <= marker_index < len(points):
        raise ValueError(f"marker_index {marker_index} is outside 0..{len(points) - 1}")
    # Top: the y-axis title, then the marker label above the plot; bottom: the date labels.
    top, bottom = PAD + LABEL_SIZE + 8 + LABEL_SIZE + 10, 220
    step = _nice_step(max(target or 0, *(p.value for p in points)) / 4)
    every = math.ceil(len(points) / DATE_LABELS)  # thin the date labels so they never collide on a phone
    dates = [(i, truncate(p.label, DATE_CHARS)) for i, p in enumerate(points) if i % every == 0]
    half_date = {i: _text_width(text, VALUE_SIZE) / 2 for i, text in dates}
    # Left of the plot: the widest tick label, and half of the first date label (centred on the first point).
    left = PAD + max(max(_text_width(_num(step * k), VALUE_SIZE) for k in range(5)) + GAP, half_date.get(0, 0))
    # Right: room for the last point's dot, and for every date label centred on its point to stay inside.
    right = WIDTH - PAD - 5.0
    n = len(points) - 1
    for i, _ in dates:
        if n and i:
            right = min(right, left + (WIDTH - PAD - half_date[i] - left) * n / i)

    def x(i: int) -> float:
        return (left + right) / 2 if n == 0 else left + (right - left) * i / n

    def y(v: float) -> float:
        return bottom - (bottom - top) * max(v, 0) / (step * 4)

    body = [_text(PAD, PAD + LABEL_SIZE, y_label, size=LABEL_SIZE, cls="chart-axis-title")]
    for k in range(5):
        gy = y(step * k)
        body += [
            _line(left, gy, right, gy, MUTED if k == 0 else TRACK, "chart-grid"),
            _text(left - GAP, gy + VALUE_SIZE * 0.36, _num(step * k), anchor="end"),
        ]
    body += [
        _label(x(i), bottom + VALUE_SIZE + 6, points[i].label, anchor="middle", size=VALUE_SIZE, limit=DATE_CHARS)
        for i, _ in dates
    ]
    if target is not None:
        ty = y(target)
        # Below the line when it sits high (cumulative data starts low at the left), above it otherwise.
        label_y = ty + LABEL_SIZE + 5 if ty < (top + bottom) / 2 else ty - 8
        body += [
            _line(left, ty, right, ty, MUTED, "chart-target", dashed=True),
            _text(left + GAP, label_y, f"対象者 {_num(target)}人", size=LABEL_SIZE, cls="chart-target-label"),
        ]
    if marker_index is not None:
        mx = x(marker_index)
        body.append(_line(mx, top - 4, mx, bottom, RED, "chart-marker", dashed=True))
        if marker_label:
            # Centred over the marker unless that would run past an edge; then it hangs off the marker inwards.
            half = _text_width(marker_label, LABEL_SIZE) / 2
            anchor = "start" if mx - half < PAD else "end" if mx + half > WIDTH - PAD else "middle"
            body.append(
                _text(mx, top - 12, marker_label, anchor=anchor, size=LABEL_SIZE, fill=RED, cls="chart-marker-label")
            )
    coords = " ".join(f"{_c(x(i))},{_c(y(p.value))}" for i, p in enumerate(points))
    body.append(
        Markup(
            '<polyline class="chart-line" points="{}" fill="none" stroke="{}" stroke-width="3" '
            'stroke-linejoin="round" stroke-linecap="round"/>'
        ).format(coords, BLUE)
    )
    body += [
        Markup('<circle class="chart-point" cx="{}" cy="{}" r="4" fill="{}"><title>{}</title></circle>').format(
            _c(x(i)), _c(y(p.value)), BLUE, f"{p.label} {y_label}: {_num(p.value)}"
        )
        for i, p in enumerate(points)
    ]
    last = points[-1]
    desc = f"{y_label}の推移（{points[0].label}〜{last.label}、{len(points)}日分）。"
    desc += f"{last.label}時点で{_num(last.value)}。"
    if target:
        desc += f"対象者{_num(target)}人の{_pct_text(last.value / target * 100)}。"
    if marker_index is not None:
        desc += f"赤い縦線は{marker_label or points[marker_index].label}。"
    caption = title + (f"（対象者 {_num(target)}人）" if target is not None else "")
    rows = [[p.label, _num(p.value)] for p in points]
    height = bottom + VALUE_SIZE + 6 + PAD + 4  # + the date labels' descenders
    return Chart(_svg(chart_id, "line", title, desc, height, body), _table(caption, ["日付", y_label], rows))


FUNNEL = (("opened", "開いた", GREY_BLUE), ("read", "読了", BLUE), ("passed", "テスト合格", GREEN))


def funnel_chart(chart_id: str, title: str, steps: Sequence[FunnelStep], total: int) -> Chart:
    """Per lesson, three bars (opened / read / passed) whose full length is `total`, the assigned employees."""
    _check_id(chart_id)
    if total <= 0 or not steps:
        return _empty(chart_id, "funnel", title)
    # Header: the legend, then "棒の全長 = 対象者 N人" on its own line (both never fit one line on the narrow
    # viewBox). Per lesson: its title on its own line, then the three bars using the full width.
    swatch, legend_y, note_y = 14, PAD + VALUE_SIZE, PAD + VALUE_SIZE + 22
    title_y, bar_y, bar_h, gap = LABEL_SIZE, LABEL_SIZE + 6, 16, 4
    bars_h = 3 * bar_h + 2 * gap
    first, group_h = note_y + 12, bar_y + bars_h + 18
    counts = [c for s in steps for c in (s.opened, s.read, s.passed) if c is not None]
    # Room right of a full bar for "9,999人" (or a longer count), so the bar length does not vary with the data.
    count_w = max(_text_width(f"{_num(c)}人", VALUE_SIZE) for c in [9999, *counts])
    bar_w = WIDTH - BAR_X - GAP - math.ceil(count_w) - PAD
    body: list[Markup] = []
    legend_x = float(PAD)
    for key, name, colour in FUNNEL:
        body += [
            _rect(legend_x, legend_y - 12, swatch, swatch, colour, f"chart-legend-{key}"),
            _text(legend_x + swatch + GAP, legend_y, name),
        ]
        legend_x += swatch + GAP + _text_width(name, VALUE_SIZE) + 16
    body.append(_text(PAD, note_y, f"棒の全長 = 対象者 {_num(total)}人", fill=MUTED))
    for i, step in enumerate(steps):
        y0 = first + i * group_h
        bars: list[Markup] = [_label(BAR_X, y0 + title_y, step.label)]
        for j, (key, name, colour) in enumerate(FUNNEL):
            count: int | None = getattr(step, key)
            by = y0 + bar_y + j * (bar_h + gap)
            text_y = by + bar_h / 2 + VALUE_SIZE * 0.36
            if count is None:
                bars.append(_text(BAR_X, text_y, "テストなし", fill=MUTED))
                continue
            w = bar_w * min(max(count, 0), total) / total  # clamp: a stale count above total must not overflow
            tip = f"{name} {_num(count)}人 / {_num(total)}人"
            bars += [
                _rect(BAR_X, by, bar_w, bar_h, LIGHT_TRACK, "chart-track"),
                _rect(BAR_X, by, w, bar_h, colour, f"chart-bar chart-bar-{key}", tip),
                _text(BAR_X + w + GAP, text_y, f"{_num(count)}人"),
            ]
        body.append(Markup('<g class="chart-group">{}</g>').format(Markup("").join(bars)))
    low = min(steps, key=lambda s: s.read)
    desc = (
        f"対象者{_num(total)}人に対する{len(steps)}レッスンの開いた・読了・テスト合格の人数。"
        f"読了が最も少ないのは{low.label}（{_num(low.read)}人）。"
    )
    rows = [
        [
            s.label,
            f"{_num(s.opened)}人",
            f"{_num(s.read)}人",
            "テストなし" if s.passed is None else f"{_num(s.passed)}人",
        ]
        for s in steps
    ]
    table = _table(f"{title}（対象者 {_num(total)}人）", ["レッスン", "開いた", "読了", "テスト合格"], rows)
    height = first + (len(steps) - 1) * group_h + bar_y + bars_h + PAD
    return Chart(_svg(chart_id, "funnel", title, desc, height, body), table)
