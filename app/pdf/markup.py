"""HTML → a small tree (stdlib html.parser, forgiving like a browser) → styled text runs for the layout."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from html.parser import HTMLParser

from app.pdf.base import MUTED, Pdf
from app.pdf.layout import Run, Style

VOID = frozenset({"br", "hr", "img", "wbr", "input", "meta", "link", "col", "area", "source"})
SKIPPED = frozenset({"script", "style", "template", "head", "title", "noscript", "iframe", "object", "svg"})
BLOCKS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "pre",
        "blockquote",
        "hr",
        "table",
        "div",
        "dl",
        "dt",
        "dd",
        "figure",
        "figcaption",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "aside",
        "nav",
        "details",
        "summary",
        "caption",
        "address",
        "body",
        "html",
    }
)
LINK = (20, 82, 160)
CODE = (120, 40, 80)
MAX_DEPTH = 64  # deeper nesting is flattened, so hostile input cannot exhaust the recursion limit


@dataclass
class Node:
    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.stack = [self.root]
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED:
            self.skipping += 1
            return
        if self.skipping:
            return
        node = Node(tag, {key: value or "" for key, value in attrs})
        if tag in VOID:
            self.stack[-1].children.append(node)
            return
        # the implied end tags browsers apply, for HTML that did not close its p, li, td or tr
        closes = {"p": ("p",), "li": ("li",), "dt": ("dt", "dd"), "dd": ("dt", "dd"), "tr": ("tr", "td", "th")}
        closes |= {"td": ("td", "th"), "th": ("td", "th")}
        if (tag in BLOCKS and tag != "li" and self.stack[-1].tag == "p") or (
            tag in closes and self.stack[-1].tag in closes[tag]
        ):
            self.stack.pop()
        self.stack[-1].children.append(node)
        if len(self.stack) < MAX_DEPTH:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and tag not in SKIPPED and self.stack[-1].tag == tag and len(self.stack) > 1:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED:
            self.skipping = max(0, self.skipping - 1)
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in ("W", "F")


def _inline(pdf: Pdf, nodes: list[Node | str], style: Style, out: list[Run], preserve: bool = False) -> None:
    for node in nodes:
        if isinstance(node, str):
            if preserve:
                out.append(Run(node.replace("\r\n", "\n").expandtabs(4), style))
            else:
                text = re.sub(r"[ \t\r\f]*\n\s*", "\x00", node)  # resolved in inline_runs
                out.append(Run(re.sub(r"[ \t\r\f]+", " ", text), style))
            continue
        tag = node.tag
        if tag == "br":
            out.append(Run("\n", style))
        elif tag == "img":
            alt = node.attrs.get("alt", "").strip()
            out.append(Run(f"［画像: {alt}］" if alt else "［画像］", replace(style, color=MUTED)))
        elif tag in ("strong", "b"):
            _inline(pdf, node.children, replace(style, bold=True), out, preserve)
        elif tag in ("code", "kbd", "samp", "tt"):
            colour = style.color if preserve else CODE
            _inline(pdf, node.children, replace(style, mono=True, color=colour), out, preserve)
        elif tag == "a":
            href = node.attrs.get("href", "").strip()
            before = len(out)
            _inline(pdf, node.children, replace(style, color=LINK, link=href or None), out, preserve)
            shown = "".join(run.text for run in out[before:])
            # on paper a link is only useful with its address
            if href.startswith(("http://", "https://")) and href not in shown:
                out.append(Run(f"（{href}）", replace(style, color=MUTED, link=href)))
        elif tag in BLOCKS and not preserve:
            out.append(Run("\x00", style))  # a block inside a table cell: a line break at most
            _inline(pdf, node.children, style, out, preserve)
            out.append(Run("\n", style))
        else:
            _inline(pdf, node.children, style, out, preserve)


def inline_runs(pdf: Pdf, nodes: list[Node | str], style: Style = Style(), *, preserve: bool = False) -> list[Run]:
    """Runs with HTML whitespace collapsed: a line break between two Japanese characters disappears, other
    whitespace becomes one space, and the text is cleaned of glyphs the font lacks."""
    raw: list[Run] = []
    _inline(pdf, nodes, style, raw, preserve)
    if preserve:
        runs = [Run(pdf.clean(run.text), run.style) for run in raw]
        if runs and runs[-1].text.endswith("\n"):
            runs[-1].text = runs[-1].text[:-1]
        return runs
    flat = "".join(run.text for run in raw)
    runs: list[Run] = []
    position = 0
    previous = ""
    for run in raw:
        chars: list[str] = []
        for offset, ch in enumerate(run.text):
            index = position + offset
            if ch == "\x00":
                following = next((flat[j] for j in range(index + 1, len(flat)) if flat[j] not in " \x00"), "")
                ch = "" if not previous or not following or (_wide(previous) and _wide(following)) else " "
                ch = "" if following == "\n" or previous == "\n" else ch
            if ch == " " and previous in ("", " ", "\n"):
                continue
            if ch:
                chars.append(ch)
                previous = ch
        position += len(run.text)
        text = pdf.clean("".join(chars))
        if text:
            runs.append(Run(text, run.style))
    while runs and runs[-1].text.rstrip(" \n") != runs[-1].text:
        runs[-1].text = runs[-1].text.rstrip(" \n")
        if not runs[-1].text:
            runs.pop()
    return runs
