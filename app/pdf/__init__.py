"""Printable PDFs with Japanese text (fpdf2 and the vendored IPAexGothic font; pure Python, no system fonts)."""

from app.pdf.render import Section, Table, certificate_pdf, document_pdf, report_pdf

__all__ = ["Section", "Table", "certificate_pdf", "document_pdf", "report_pdf"]
