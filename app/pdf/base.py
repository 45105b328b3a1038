"""The FPDF subclass every printable shares: the vendored Japanese font, glyph clean-up, metadata and footer."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fpdf import FPDF

FONT_FILE = Path(__file__).parent / "fonts" / "ipaexg.ttf"
FAMILY = "ipaexg"
MONO = "courier"  # one of the 14 standard PDF fonts: nothing to embed, used for ASCII code only
CREATOR = "カスハラ対策研修"
# 〓 (geta) is the traditional Japanese stand-in for a character the typeface lacks.
MISSING = "〓"
# Private-use characters never survive `clean`, so user text can never collide with the page-count alias.
TOTAL_PAGES = "\ue000\ue001\ue002"

INK = (33, 37, 41)
MUTED = (96, 103, 112)
ACCENT = (31, 78, 121)
RULE = (186, 192, 200)
SHADE = (238, 241, 245)

PT = 25.4 / 72  # millimetres per point
_CONTROL = re.compile(r"[\t\v\f\r\u2028\u2029]")
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


class Pdf(FPDF):
    """A4 in millimetres with IPAexGothic; layout code breaks pages itself, so auto page break is off."""

    def __init__(
        self,
        *,
        title: str,
        landscape: bool = False,
        margin: float = 18.0,
        footer: bool = True,
        now: datetime | None = None,
    ) -> None:
        super().__init__(orientation="landscape" if landscape else "portrait", unit="mm", format="A4")
        self.add_font(FAMILY, "", FONT_FILE)
        self._cmap: dict[int, str] = self.fonts[FAMILY].cmap
        self._widths: dict[tuple[str, float, str], float] = {}
        self._clean_cache: dict[str, str] = {}
        self.doc_title = self.clean(title).replace("\n", " ")
        self.show_footer = footer
        self.set_margins(margin, margin, margin)
        self.set_auto_page_break(False, margin)
        self.c_margin = 0
        self.alias_nb_pages(TOTAL_PAGES, align="L")
        self.set_title(self.doc_title)
        self.set_creator(CREATOR)
        self.set_lang("ja")
        self.set_creation_date(now or datetime.now().astimezone())
        self.page_hooks: list[Callable[[], None]] = []
        self.bars: list[list] = []  # [x, y_start, width, colour] of left rules open across page breaks

    def set_font(self, family: str | None = None, style="", size: float = 0) -> None:
        # IPAexGothic has one weight, and our own text draws bold as a stroked outline (see `put`). A bold style
        # is registered (from the same file) only when someone asks for it: parsing and subsetting a second
        # copy of the font costs a third of a second per PDF.
        if isinstance(style, str) and (family or self.font_family) == FAMILY:
            emphasis = "".join(letter for letter in "BI" if letter in style.upper())
            if emphasis and FAMILY + emphasis not in self.fonts:
                self.add_font(FAMILY, emphasis, FONT_FILE)
        super().set_font(family, style, size)

    # -- text -------------------------------------------------------------------------------------------

    def clean(self, text: str) -> str:
        """Text the font can draw: NFC, controls dropped, missing glyphs mapped (NFKC) or replaced by 〓."""
        text = unicodedata.normalize("NFC", _CONTROL.sub(" ", str(text)).replace("\xa0", " "))
        out: list[str] = []
        replaced = False  # one 〓 per cluster: a ZWJ family or a toned thumbs-up is one symbol to the reader
        for ch in text:
            if ch == "\n" or ord(ch) in self._cmap:
                out.append(ch)
                replaced = False
                continue
            substitute = self._clean_cache.get(ch)
            if substitute is None:
                substitute = self._clean_cache[ch] = self._substitute(ch)
            if (substitute == MISSING and replaced) or not substitute:
                continue
            out.append(substitute)
            replaced = substitute == MISSING
        return "".join(out)

    def _substitute(self, ch: str) -> str:
        category = unicodedata.category(ch)
        if category in _DROPPED_CATEGORIES or category in ("Mn", "Me") or "\U0001f3fb" <= ch <= "\U0001f3ff":
            # zero-width joiners, variation selectors, BOMs, lone surrogates, private use, emoji skin tones,
            # and combining marks the font lacks (the base letter stays)
            return ""
        folded = unicodedata.normalize("NFKC", ch)
        if folded != ch and folded and all(ord(c) in self._cmap for c in folded):
            return folded
        return MISSING

    def styled(self, *, mono: bool = False, size: float, color=INK) -> None:
        self.set_font(MONO if mono else FAMILY, "", size)
        self.set_text_color(*color)

    def put(
        self, x: float, y: float, w: float, h: float, text: str, *, bold: bool = False, link: str | None = None
    ) -> None:
        """Draw one line of already measured text (width `w`) in the current style, top-left at (x, y)."""
        self.set_xy(x, y)
        if not bold:
            self.cell(w, h, text, link=link or "")
            return
        # The font has one weight, so bold is a fill+stroke of the same outline. q/Q (local_context) scopes the
        # text render mode, which fpdf2 would otherwise leave switched on for the following text.
        with self.local_context(text_mode="FILL_STROKE", draw_color=self.text_color):
            # inside the text object fpdf2 writes line_width unscaled, i.e. in points
            self.line_width = self.font_size_pt * 0.03
            self.cell(w, h, text, link=link or "")

    def char_width(self, ch: str, *, mono: bool, size: float) -> float:
        key = (MONO if mono else FAMILY, size, ch)
        width = self._widths.get(key)
        if width is None:
            # Courier: every glyph is 600/1000 em
            units = 600 if mono else self.fonts[FAMILY].cw[ord(ch)]
            width = units * size * 0.001 * PT
            self._widths[key] = width
        return width

    def text_width(self, text: str, *, mono: bool = False, size: float) -> float:
        return sum(self.char_width(ch, mono=mono, size=size) for ch in text)

    # -- pages ------------------------------------------------------------------------------------------

    @property
    def bottom(self) -> float:
        return self.h - self.b_margin

    @property
    def content_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def ensure_space(self, height: float) -> bool:
        """Start a new page unless `height` fits below y; True when a page was added."""
        if self.get_y() + height <= self.bottom + 0.01 or self.get_y() <= self.t_margin + 0.01:
            return False
        self.break_page()
        return True

    def break_page(self) -> None:
        for bar in self.bars:
            self._draw_bar(bar, self.bottom)
        self.add_page()
        for bar in self.bars:
            bar[1] = self.t_margin
        for hook in list(self.page_hooks):
            hook()

    def open_bar(self, *, x: float, width: float, colour) -> list:
        bar = [x, self.get_y(), width, colour]
        self.bars.append(bar)
        return bar

    def close_bar(self, bar: list) -> None:
        self.bars.remove(bar)
        self._draw_bar(bar, self.get_y())

    def _draw_bar(self, bar: list, y_end: float) -> None:
        x, y_start, width, colour = bar
        if y_end - y_start > 0.1:
            self.set_fill_color(*colour)
            self.rect(x, y_start, width, y_end - y_start, style="F")

    def footer(self) -> None:
        if not self.show_footer:
            return
        self.styled(size=8, color=MUTED)
        y = self.h - self.b_margin + 6
        self.set_draw_color(*RULE)
        self.set_line_width(0.2)
        self.line(self.l_margin, y - 1.5, self.w - self.r_margin, y - 1.5)
        number = f"{self.page_no()} / {TOTAL_PAGES}"
        reserve = 24.0
        self.set_xy(self.l_margin, y)
        self.cell(self.content_width - reserve, 4, fit(self, self.doc_title, self.content_width - reserve - 4, 8))
        self.set_xy(self.w - self.r_margin - reserve, y)
        self.cell(reserve, 4, number, align="R")

    def finish(self) -> bytes:
        return bytes(self.output())


def fit(pdf: Pdf, text: str, width: float, size: float, *, mono: bool = False) -> str:
    """`text` on one line, cut with … when it is wider than `width`."""
    if pdf.text_width(text, mono=mono, size=size) <= width:
        return text
    ellipsis = pdf.char_width("…", mono=False, size=size)
    used = 0.0
    for index, ch in enumerate(text):
        used += pdf.char_width(ch, mono=mono, size=size)
        if used + ellipsis > width:
            return text[:index] + "…"
    return text
