"""Tables that paginate: the header row is drawn again at the top of every page the table continues on, long
cells wrap, and a row taller than a page is split across pages instead of running off the bottom."""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.pdf.base import PT, RULE, Pdf
from app.pdf.layout import Line, Run, break_lines, draw_lines

HEADER_FILL = (228, 233, 240)
STRIPE_FILL = (247, 248, 250)
PAD_X = 1.6
PAD_Y = 1.0
LEADING = 1.45
MAX_HEADER_LINES = 4  # the header is repeated on every page, so it must stay well below a page's height


@dataclass
class Cell:
    runs: list[Run]
    align: str = "L"


def column_widths(pdf: Pdf, rows: list[list[Cell]], *, total: float, size: float) -> list[float]:
    """Share `total` by each column's natural (one-line) width, keeping narrow columns readable."""
    columns = max(len(row) for row in rows)
    natural = [0.0] * columns
    for row in rows:
        for index, cell in enumerate(row):
            text = "".join(run.text for run in cell.runs)
            natural[index] = max(natural[index], pdf.text_width(text, size=size) + 2 * PAD_X)
    floor = min(total / columns, 14.0)
    if sum(natural) <= total:
        weights = [max(value, floor) for value in natural]
    else:
        # cap every column at a share of the page before scaling, so one long column cannot squeeze the rest
        cap = total * 0.55
        weights = [min(max(value, floor), cap) ** 0.75 for value in natural]
    scale = total / sum(weights)
    return [weight * scale for weight in weights]


def draw_table(
    pdf: Pdf,
    *,
    header: list[Cell] | None,
    rows: list[list[Cell]],
    widths: list[float] | None = None,
    size: float = 9.0,
    x: float | None = None,
    width: float | None = None,
) -> None:
    """Draw a table from the current y; `widths` are relative (default: fitted to the content)."""
    x = pdf.l_margin if x is None else x
    width = pdf.w - pdf.r_margin - x if width is None else width
    all_rows = ([header] if header else []) + rows
    columns = max((len(row) for row in all_rows), default=0)
    if columns == 0:
        return
    all_rows = [row + [Cell([])] * (columns - len(row)) for row in all_rows]
    if widths and len(widths) == columns and all(w > 0 for w in widths):
        mm = [w * width / sum(widths) for w in widths]
    else:
        mm = column_widths(pdf, all_rows, total=width, size=size)
    line_height = size * PT * LEADING

    def lay_out(row: list[Cell], *, bold: bool) -> list[list[Line]]:
        laid = []
        for cell, cell_width in zip(row, mm, strict=True):
            runs = [Run(run.text, replace(run.style, bold=True)) for run in cell.runs] if bold else cell.runs
            laid.append(break_lines(pdf, runs, width=max(cell_width - 2 * PAD_X, 1.0), size=size))
        return laid

    def paint(row: list[Cell], lines: list[list[Line]], count: int, fill) -> None:
        y = pdf.get_y()
        height = count * line_height + 2 * PAD_Y
        cursor = x
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.2)
        for cell, cell_lines, cell_width in zip(row, lines, mm, strict=True):
            pdf.rect(cursor, y, cell_width, height, style="DF" if fill else "D")
            if cell_lines:
                pdf.set_y(y + PAD_Y)
                draw_lines(
                    pdf,
                    cell_lines[:count],
                    x=cursor + PAD_X,
                    width=cell_width - 2 * PAD_X,
                    size=size,
                    leading=LEADING,
                    align=cell.align,
                )
            cursor += cell_width
        pdf.set_y(y + height)

    def fill_colour(colour) -> bool:
        if colour:
            pdf.set_fill_color(*colour)
        return colour is not None

    header_lines = lay_out(all_rows[0], bold=True) if header else None
    header_count = max(1, min(MAX_HEADER_LINES, max(len(lines) for lines in header_lines))) if header_lines else 0

    def draw_header() -> None:
        if header and header_lines:
            paint(all_rows[0], [lines[:header_count] for lines in header_lines], header_count, fill_colour(HEADER_FILL))

    header_height = header_count * line_height + 2 * PAD_Y if header else 0.0
    # keep the header together with at least the first line of the first row
    pdf.ensure_space(header_height + line_height + 2 * PAD_Y)
    draw_header()
    pdf.page_hooks.append(draw_header)
    try:
        for number, row in enumerate(all_rows[1:] if header else all_rows):
            lines = lay_out(row, bold=False)
            remaining = max(1, max(len(cell_lines) for cell_lines in lines))
            fresh_page_room = pdf.bottom - pdf.t_margin - header_height
            if pdf.get_y() + remaining * line_height + 2 * PAD_Y > pdf.bottom + 0.01 and (
                remaining * line_height + 2 * PAD_Y <= fresh_page_room
            ):
                pdf.break_page()  # the row fits on a fresh page: move it there whole
            colour = STRIPE_FILL if number % 2 else None
            while True:
                room = int((pdf.bottom - pdf.get_y() - 2 * PAD_Y + 0.01) // line_height)
                if room < 1:
                    pdf.break_page()
                    continue
                count = min(room, remaining)
                # paint draws each cell's first `count` lines; the rest continue on the next page
                paint(row, lines, count, fill_colour(colour))
                lines = [cell_lines[count:] for cell_lines in lines]
                remaining -= count
                if remaining <= 0:
                    break
                pdf.break_page()
    finally:
        pdf.page_hooks.remove(draw_header)
