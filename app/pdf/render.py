"""Printable PDFs: policies and manuals, evidence packs (and, in certificate.py, the 修了証)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.pdf.base import ACCENT, MUTED, PT, Pdf
from app.pdf.body import BodyRenderer
from app.pdf.certificate import certificate_pdf
from app.pdf.layout import Style, paragraph, text_runs
from app.pdf.tables import Cell, draw_table

__all__ = ["Section", "Table", "certificate_pdf", "document_pdf", "report_pdf"]


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]
    widths: list[float] | None = None  # relative widths; default equal


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)


def _title_block(pdf: Pdf, *, title: str, meta_lines: list[str], size: float) -> None:
    pdf.set_y(pdf.t_margin)
    paragraph(pdf, text_runs(pdf, title, Style(bold=True, color=ACCENT)), size=size, leading=1.45)
    pdf.set_y(pdf.get_y() + 1.0)
    for line in meta_lines:
        paragraph(pdf, text_runs(pdf, line, Style(color=MUTED)), size=9.5, leading=1.6)
    y = pdf.get_y() + 2.0
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.set_y(y + 6.0)


def document_pdf(*, title: str, meta_lines: list[str], html: str, now: datetime | None = None) -> bytes:
    """A policy or manual on A4 portrait: title block, meta lines, the sanitised HTML body, page x / y footer."""
    pdf = Pdf(title=title, now=now, margin=20.0)
    pdf.add_page()
    _title_block(pdf, title=title, meta_lines=meta_lines, size=20.0)
    BodyRenderer(pdf).render(html)
    return pdf.finish()


def report_pdf(
    *, title: str, meta_lines: list[str], sections: list[Section], landscape: bool = True, now: datetime | None = None
) -> bytes:
    """An evidence pack: title, meta lines, then per section a heading, paragraphs and paginating tables."""
    pdf = Pdf(title=title, landscape=landscape, now=now, margin=15.0)
    pdf.add_page()
    _title_block(pdf, title=title, meta_lines=meta_lines, size=18.0)
    body = 10.0
    for number, section in enumerate(sections):
        if number:
            pdf.set_y(pdf.get_y() + 5.0)
        pdf.ensure_space(13 * PT * 1.5 + 3 * body * PT * 1.7)
        paragraph(pdf, text_runs(pdf, section.heading, Style(bold=True, color=ACCENT)), size=13.0, leading=1.5)
        pdf.set_y(pdf.get_y() + 1.5)
        for text in section.paragraphs:
            paragraph(pdf, text_runs(pdf, text), size=body, leading=1.7)
            pdf.set_y(pdf.get_y() + 1.5)
        for table in section.tables:
            pdf.set_y(pdf.get_y() + 1.5)
            draw_table(
                pdf,
                header=[Cell(text_runs(pdf, column)) for column in table.columns] if table.columns else None,
                rows=[[Cell(text_runs(pdf, value)) for value in row] for row in table.rows],
                widths=table.widths or [1.0] * max([len(table.columns), *(len(row) for row in table.rows)]),
                size=8.5,
            )
            pdf.set_y(pdf.get_y() + 3.0)
    return pdf.finish()
