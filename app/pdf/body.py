"""Our sanitised HTML (see app.content.markdown) laid out as blocks: headings, paragraphs, lists, code, quotes,
admonitions, rules and tables. Anything unexpected is drawn as plain text rather than refused."""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.pdf.base import ACCENT, INK, MUTED, PT, RULE, SHADE, Pdf
from app.pdf.layout import Run, Style, paragraph
from app.pdf.markup import BLOCKS, Node, inline_runs, parse
from app.pdf.tables import Cell, draw_table

HEADINGS = {"h1": 16.0, "h2": 14.0, "h3": 12.5, "h4": 11.5, "h5": 10.5, "h6": 10.5}
ADMONITIONS = {"point": (31, 98, 168), "caution": (190, 75, 20), "case": (46, 125, 50)}
BODY = 10.5
LEADING = 1.75


@dataclass
class _Context:
    indent: float = 0.0
    color: tuple[int, int, int] = INK
    size: float = BODY
    marker: Run | None = None  # a list bullet waiting for the first line of its item
    marker_x: float = 0.0
    depth: int = 0


class BodyRenderer:
    """Walks the parsed HTML and draws it at pdf's current y, inside the page margins."""

    def __init__(self, pdf: Pdf) -> None:
        self.pdf = pdf

    def render(self, html: str) -> None:
        self.blocks(parse(html).children, _Context())

    def gap(self, mm: float) -> None:
        if self.pdf.get_y() > self.pdf.t_margin + 0.01:
            self.pdf.set_y(min(self.pdf.get_y() + mm, self.pdf.bottom))

    def text(self, runs: list[Run], ctx: _Context, *, size: float | None = None, **kwargs) -> None:
        if not runs and ctx.marker is None:
            return
        x = self.pdf.l_margin + ctx.indent
        paragraph(
            self.pdf,
            runs,
            x=x,
            size=size or ctx.size,
            leading=kwargs.pop("leading", LEADING),
            marker=ctx.marker,
            marker_x=ctx.marker_x,
            **kwargs,
        )
        ctx.marker = None

    def blocks(self, nodes: list[Node | str], ctx: _Context) -> None:
        pending: list[Node | str] = []
        for node in nodes:
            if isinstance(node, str) or node.tag not in BLOCKS:
                pending.append(node)
                continue
            self.flush(pending, ctx)
            pending = []
            self.block(node, ctx)
        self.flush(pending, ctx)

    def flush(self, pending: list[Node | str], ctx: _Context) -> None:
        runs = inline_runs(self.pdf, pending, Style(color=ctx.color))
        if runs:
            self.text(runs, ctx)
            self.gap(2.2)

    def block(self, node: Node, ctx: _Context) -> None:
        tag, pdf = node.tag, self.pdf
        classes = node.attrs.get("class", "").split()
        if tag in HEADINGS:
            size = HEADINGS[tag]
            line = size * PT * 1.5
            self.gap(size * 0.45)
            pdf.ensure_space(line + 3 * BODY * PT * LEADING)  # never strand a heading at the foot of a page
            colour = ACCENT if tag in ("h1", "h2") else INK
            self.text(inline_runs(pdf, node.children, Style(bold=True, color=colour)), ctx, size=size, leading=1.5)
            if tag in ("h1", "h2"):
                pdf.set_draw_color(*(ACCENT if tag == "h1" else RULE))
                pdf.set_line_width(0.5 if tag == "h1" else 0.3)
                y = pdf.get_y() + 0.3
                pdf.line(pdf.l_margin + ctx.indent, y, pdf.w - pdf.r_margin, y)
                pdf.set_y(y + 1.5)
            self.gap(1.2)
        elif tag == "p" and "admonition-title" in classes:
            self.text(inline_runs(pdf, node.children, Style(bold=True, color=ctx.color)), ctx)
            self.gap(1.0)
        elif tag in ("p", "dt", "figcaption", "caption", "summary", "address"):
            style = Style(bold=tag == "dt", color=MUTED if tag == "figcaption" else ctx.color)
            runs = inline_runs(pdf, node.children, style)
            self.text(runs, ctx)
            if runs:
                self.gap(0.8 if tag == "dt" else 2.2)
        elif tag in ("ul", "ol"):
            self.listing(node, ctx)
        elif tag == "li":
            self.listing(Node("ul", children=[node]), ctx)
        elif tag == "pre":
            runs = inline_runs(pdf, node.children, Style(mono=True, color=INK), preserve=True)
            x = pdf.l_margin + ctx.indent + 2.5
            width = pdf.w - pdf.r_margin - x - 2.5
            self.gap(0.8)
            pdf.ensure_space(2 * 1.5 + 9.0 * PT * 1.5)
            self.shade_strip(x, width)
            paragraph(pdf, runs, x=x, width=width, size=9.0, leading=1.5, preserve=True, shade=SHADE)
            self.shade_strip(x, width)
            self.gap(3.0)
        elif tag == "blockquote":
            self.boxed(node, ctx, colour=RULE, text_colour=MUTED)
        elif tag == "div" and "admonition" in classes:
            kind = next((name for name in classes if name in ADMONITIONS), "point")
            self.boxed(node, ctx, colour=ADMONITIONS[kind], text_colour=INK, title_colour=ADMONITIONS[kind])
        elif tag == "hr":
            self.gap(2.0)
            pdf.ensure_space(4.0)
            pdf.set_draw_color(*RULE)
            pdf.set_line_width(0.3)
            pdf.line(pdf.l_margin + ctx.indent, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
            pdf.set_y(pdf.get_y() + 4.0)
        elif tag == "table":
            self.table(node, ctx)
        elif tag == "dd":
            self.blocks(node.children, replace(ctx, indent=ctx.indent + 6.0))
        else:
            self.blocks(node.children, ctx)

    def shade_strip(self, x: float, width: float, height: float = 1.5) -> None:
        """Padding above or below a shaded code block (draw_lines shades the lines themselves)."""
        pdf = self.pdf
        if pdf.get_y() + height <= pdf.bottom:
            pdf.set_fill_color(*SHADE)
            pdf.rect(x - 2, pdf.get_y(), width + 4, height, style="F")
            pdf.set_y(pdf.get_y() + height)

    def boxed(self, node: Node, ctx: _Context, *, colour, text_colour, title_colour=None) -> None:
        """A block with a coloured rule down its left side (kept open across page breaks)."""
        pdf = self.pdf
        self.gap(1.0)
        pdf.ensure_space(BODY * PT * LEADING * 2)
        bar = pdf.open_bar(x=pdf.l_margin + ctx.indent, width=1.2, colour=colour)
        pdf.set_y(pdf.get_y() + 1.0)
        inner = replace(ctx, indent=ctx.indent + 5.0, color=text_colour, marker=None)
        pending: list[Node | str] = []
        for child in node.children:
            if isinstance(child, Node) and "admonition-title" in child.attrs.get("class", "").split():
                self.blocks(pending, inner)
                pending = []
                title = Style(bold=True, color=title_colour or text_colour)
                self.text(inline_runs(pdf, child.children, title), inner)
                self.gap(0.8)
            else:
                pending.append(child)
        self.blocks(pending, inner)
        if pdf.get_y() > pdf.t_margin + 0.01:
            pdf.set_y(pdf.get_y() - 1.2)  # the last paragraph's spacing belongs outside the box
        pdf.close_bar(bar)
        self.gap(3.0)

    def listing(self, node: Node, ctx: _Context) -> None:
        ordered = node.tag == "ol"
        try:
            number = int(node.attrs.get("start", "1"))
        except ValueError:
            number = 1
        bullet = "•" if ctx.depth % 2 == 0 else "◦"
        items = [child for child in node.children if not (isinstance(child, str) and not child.strip())]
        width = 7.0 if ordered else 5.0
        for item in items:
            marker = Run(
                f"{number}." if ordered else self.pdf.clean(bullet), Style(color=MUTED if not ordered else ctx.color)
            )
            inner = replace(
                ctx,
                indent=ctx.indent + width,
                marker=marker,
                marker_x=self.pdf.l_margin + ctx.indent + 0.5,
                depth=ctx.depth + 1,
            )
            children = item.children if isinstance(item, Node) and item.tag == "li" else [item]
            self.blocks(children, inner)
            if inner.marker is not None:  # an empty item still shows its bullet
                self.text([], inner)
            self.gap(-1.2)
            number += 1
        self.gap(2.4)

    def table(self, node: Node, ctx: _Context) -> None:
        header: list[Cell] | None = None
        rows: list[list[Cell]] = []
        captions: list[Node] = []

        def collect(parent: Node, in_head: bool) -> None:
            nonlocal header
            for child in parent.children:
                if not isinstance(child, Node):
                    continue
                if child.tag in ("thead", "tbody", "tfoot"):
                    collect(child, child.tag == "thead")
                elif child.tag == "caption":
                    captions.append(child)
                elif child.tag == "tr":
                    cells = [self.cell(c) for c in child.children if isinstance(c, Node) and c.tag in ("td", "th")]
                    is_head = in_head or all(
                        isinstance(c, Node) and c.tag == "th" for c in child.children if isinstance(c, Node)
                    )
                    if is_head and header is None and not rows:
                        header = cells
                    else:
                        rows.append(cells)

        collect(node, False)
        for caption in captions:
            self.block(Node("p", children=[Node("strong", children=caption.children)]), ctx)
        if header is None and not rows:
            return
        self.gap(1.0)
        draw_table(self.pdf, header=header, rows=rows, size=9.5, x=self.pdf.l_margin + ctx.indent)
        self.gap(4.0)

    def cell(self, node: Node) -> Cell:
        style = node.attrs.get("style", "")
        align = "R" if "right" in style else "C" if "center" in style else "L"
        return Cell(inline_runs(self.pdf, node.children, Style(bold=node.tag == "th")), align)
