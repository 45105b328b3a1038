"""Line breaking for Japanese and mixed text, and drawing the lines.

Japanese has no spaces, so any two full-width characters may be split — except where the line-breaking rules
(kinsoku) forbid it: a line never starts with 。、）」 or small kana, never ends with （「. Latin words break only
at spaces, unless one word is wider than the whole line. Every width comes from the font's own advance widths,
so no line is ever wider than the width it was broken for.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from app.pdf.base import INK, PT, Pdf

NO_START = frozenset(
    "、。，．,.・：；:;？！?!‼⁇⁈⁉ー－―‐゠–〜～…‥）)］]｝}〕〉》」』】〙〗〟’”»%％°′″℃"
    "ヽヾゝゞ々〻ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶ"
)
NO_END = frozenset("（(［[｛{〔〈《「『【〘〖〝‘“«")
_TOKEN = re.compile(r"\n| +|[^\s]")
_SAFE_LINK = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)


@dataclass(frozen=True)
class Style:
    bold: bool = False
    mono: bool = False
    color: tuple[int, int, int] = INK
    link: str | None = None


PLAIN = Style()


@dataclass
class Run:
    text: str
    style: Style = PLAIN


@dataclass
class Segment:
    text: str
    style: Style
    mono: bool  # Courier is used only for the ASCII part of code
    width: float


@dataclass
class Line:
    segments: list[Segment] = field(default_factory=list)
    width: float = 0.0


@dataclass
class _Atom:
    chars: list[tuple[str, Style]]
    width: float
    kind: str  # "word" (unbreakable), "char" (breakable either side), "space", "newline"


def _is_word_char(ch: str) -> bool:
    return ord(ch) < 0x2E80 and unicodedata.east_asian_width(ch) not in ("W", "F") and ch not in "…‥―"


def _mono(ch: str, style: Style) -> bool:
    return style.mono and " " <= ch <= "~"


def _atoms(pdf: Pdf, runs: list[Run], size: float, preserve: bool) -> list[_Atom]:
    atoms: list[_Atom] = []
    for run in runs:
        style = run.style
        for token in _TOKEN.findall(run.text):
            width = sum(pdf.char_width(ch, mono=_mono(ch, style), size=size) for ch in token)
            if token == "\n":
                atoms.append(_Atom([], 0.0, "newline"))
            elif token[0] == " ":
                if preserve:
                    atoms.extend(_Atom([(" ", style)], width / len(token), "char") for _ in token)
                else:
                    atoms.append(_Atom([(" ", style)], width / len(token), "space"))
            elif not preserve and _is_word_char(token):
                previous = atoms[-1] if atoms else None
                if previous is not None and previous.kind == "word":
                    previous.chars.append((token, style))  # a word continues, even across a change of style
                    previous.width += width
                else:
                    atoms.append(_Atom([(token, style)], width, "word"))
            else:
                atoms.append(_Atom([(token, style)], width, "char"))
    return atoms


def _may_break_before(previous: _Atom, atom: _Atom, preserve: bool) -> bool:
    if preserve or atom.kind == "space" or previous.kind == "space":
        return True
    if atom.chars and atom.chars[0][0] in NO_START:
        return False
    return not (previous.chars and previous.chars[-1][0] in NO_END)


def _line(atoms: list[_Atom], size: float, pdf: Pdf, preserve: bool) -> Line:
    if not preserve:
        while atoms and atoms[-1].kind == "space":
            atoms = atoms[:-1]
    line = Line()
    for atom in atoms:
        for text, style in atom.chars:
            for ch in text:
                mono = _mono(ch, style)
                width = pdf.char_width(ch, mono=mono, size=size)
                last = line.segments[-1] if line.segments else None
                if last is not None and last.style == style and last.mono == mono:
                    last.text += ch
                    last.width += width
                else:
                    line.segments.append(Segment(ch, style, mono, width))
                line.width += width
    return line


def _split_word(pdf: Pdf, atom: _Atom, size: float) -> list[_Atom]:
    return [
        _Atom([(ch, style)], pdf.char_width(ch, mono=_mono(ch, style), size=size), "char")
        for text, style in atom.chars
        for ch in text
    ]


def break_lines(pdf: Pdf, runs: list[Run], *, width: float, size: float, preserve: bool = False) -> list[Line]:
    """Lines no wider than `width` (a single glyph wider than `width` gets a line of its own)."""
    atoms = _atoms(pdf, runs, size, preserve)
    lines: list[Line] = []
    start = index = 0
    used = 0.0

    def skip_spaces(position: int) -> int:
        while not preserve and position < len(atoms) and atoms[position].kind == "space":
            position += 1
        return position

    start = index = skip_spaces(0)
    while index < len(atoms):
        atom = atoms[index]
        if atom.kind == "newline":
            lines.append(_line(atoms[start:index], size, pdf, preserve))
            start = index = skip_spaces(index + 1)
            used = 0.0
            continue
        if used + atom.width <= width + 1e-6 or (index == start and atom.kind != "word"):
            used += atom.width
            index += 1
            continue
        if index == start:  # one word wider than the line: break it between characters
            atoms[index : index + 1] = _split_word(pdf, atom, size)
            continue
        cut = index
        while cut > start and not _may_break_before(atoms[cut - 1], atoms[cut], preserve):
            cut -= 1
        if cut == start:
            cut = index  # nowhere allowed (e.g. a long run of 。。。): break where the line is full
        lines.append(_line(atoms[start:cut], size, pdf, preserve))
        start = index = skip_spaces(cut)
        used = 0.0
    if start < len(atoms) or not lines:
        lines.append(_line(atoms[start:], size, pdf, preserve))
    return lines


def safe_link(href: str | None) -> str | None:
    return href if href and _SAFE_LINK.match(href) else None


def draw_lines(
    pdf: Pdf,
    lines: list[Line],
    *,
    x: float,
    width: float,
    size: float,
    leading: float = 1.7,
    align: str = "L",
    marker: Run | None = None,
    marker_x: float = 0.0,
    shade: tuple[int, int, int] | None = None,
) -> None:
    """Draw lines from the current y, starting a page before any line that would cross the bottom margin.

    `marker` (a list bullet or number) is drawn beside the first line, on whatever page that line lands."""
    height = size * PT * leading
    for number, line in enumerate(lines):
        pdf.ensure_space(height)
        y = pdf.get_y()
        if shade is not None:
            pdf.set_fill_color(*shade)
            pdf.rect(x - 2, y, width + 4, height, style="F")
        if number == 0 and marker is not None:
            pdf.styled(size=size, color=marker.style.color)
            pdf.put(marker_x, y, pdf.text_width(marker.text, size=size), height, marker.text)
        offset = {"C": (width - line.width) / 2, "R": width - line.width}.get(align, 0.0)
        cursor = x + max(offset, 0.0)
        for segment in line.segments:
            pdf.styled(mono=segment.mono, size=size, color=segment.style.color)
            link = safe_link(segment.style.link)
            pdf.put(cursor, y, segment.width, height, segment.text, bold=segment.style.bold, link=link)
            cursor += segment.width
        pdf.set_y(y + height)


def paragraph(
    pdf: Pdf,
    runs: list[Run],
    *,
    x: float | None = None,
    width: float | None = None,
    size: float,
    leading: float = 1.7,
    align: str = "L",
    preserve: bool = False,
    **kwargs,
) -> None:
    x = pdf.l_margin if x is None else x
    width = pdf.w - pdf.r_margin - x if width is None else width
    lines = break_lines(pdf, runs, width=width, size=size, preserve=preserve)
    draw_lines(pdf, lines, x=x, width=width, size=size, leading=leading, align=align, **kwargs)


def text_runs(pdf: Pdf, text: str, style: Style = PLAIN) -> list[Run]:
    return [Run(pdf.clean(text), style)]
