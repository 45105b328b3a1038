"""The 修了証: one A4 landscape page, centred, with a QR code that leads to the verification page."""

from __future__ import annotations

import io
from datetime import datetime

import segno

from app.pdf.base import ACCENT, INK, MONO, MUTED, PT, Pdf, fit
from app.pdf.layout import Run, Style, break_lines, draw_lines

FRAME = 10.0
QR_SIZE = 30.0


def _centred(
    pdf: Pdf, text: str, *, y: float, size: float, bold: bool = False, color=INK, spacing: float = 0.0
) -> None:
    width = pdf.text_width(text, size=size) + spacing * max(len(text) - 1, 0)
    pdf.styled(size=size, color=color)
    pdf.set_char_spacing(spacing)
    pdf.put((pdf.w - width) / 2, y, width + spacing, size * PT * 1.4, text, bold=bold)
    pdf.set_char_spacing(0)


def _sentence(pdf: Pdf, course: str, version: str, *, width: float, size: float, max_lines: int = 3):
    """The completion sentence, shortening the course title with … until it fits in `max_lines`."""
    version_part = f"（{version}）" if version else ""
    for limit in (len(course), 90, 60, 40, 20):
        shown = course if len(course) <= limit else course[: limit - 1] + "…"
        runs = [
            Run("あなたは「"),
            Run(shown, Style(bold=True)),
            Run(f"」{version_part}の"),
            Run("\n全課程を修了したことをここに証します。"),
        ]
        lines = break_lines(pdf, runs, width=width, size=size)
        if len(lines) <= max_lines:
            return lines
    return lines[:max_lines]


def _qr_png(url: str) -> bytes | None:
    for error in ("m", "l"):
        try:
            buffer = io.BytesIO()
            segno.make(url or " ", error=error, micro=False).save(buffer, kind="png", scale=10, border=1)
            return buffer.getvalue()
        except segno.DataOverflowError:
            continue
    return None  # too long for any QR code: the printed URL has to do


def certificate_pdf(
    *,
    holder: str,
    course_title: str,
    version_label: str,
    completed_on: str,
    expires_on: str | None,
    code: str,
    verify_url: str,
    issuer: str,
    now: datetime | None = None,
) -> bytes:
    """修了証 on one A4 landscape page: holder, course, dates, issuer, verification code and QR code."""
    holder, course, version = (" ".join(str(v).split()) for v in (holder, course_title, version_label))
    pdf = Pdf(title="修了証", landscape=True, margin=FRAME, footer=False, now=now)
    holder, course, version = pdf.clean(holder), pdf.clean(course), pdf.clean(version)
    completed, expires = pdf.clean(completed_on), pdf.clean(expires_on) if expires_on else None
    issuer_text, code_text, url = pdf.clean(issuer), pdf.clean(code), pdf.clean(verify_url)
    pdf.set_title(f"修了証 {holder}")
    pdf.set_subject(course)
    pdf.set_author(issuer_text)
    pdf.add_page()
    centre_width = pdf.w - 2 * (FRAME + 34)

    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(FRAME, FRAME, pdf.w - 2 * FRAME, pdf.h - 2 * FRAME)
    pdf.set_line_width(0.3)
    pdf.rect(FRAME + 3, FRAME + 3, pdf.w - 2 * FRAME - 6, pdf.h - 2 * FRAME - 6)

    _centred(pdf, "修了証", y=28, size=34, bold=True, color=ACCENT, spacing=8.0)

    # holder name, shrunk (then cut) to fit, with a smaller 殿 on the same baseline
    size = 26.0
    while size > 14 and pdf.text_width(holder, size=size) > centre_width - 20:
        size -= 1
    name = fit(pdf, holder, centre_width - 20, size)
    name_width = pdf.text_width(name, size=size)
    honorific = "　殿"
    honorific_width = pdf.text_width(honorific, size=16)
    x = (pdf.w - name_width - honorific_width) / 2
    y = 60.0
    pdf.styled(size=size)
    pdf.put(x, y, name_width, 14, name, bold=True)
    pdf.styled(size=16)
    pdf.put(x + name_width, y + 0.3 * (size - 16) * PT, honorific_width, 14, honorific)
    pdf.set_draw_color(*INK)
    pdf.set_line_width(0.4)
    pdf.line(x - 6, y + 14, x + name_width + honorific_width + 6, y + 14)

    pdf.set_y(86)
    lines = _sentence(pdf, course, version, width=centre_width, size=13)
    draw_lines(pdf, lines, x=(pdf.w - centre_width) / 2, width=centre_width, size=13, leading=1.8, align="C")

    _centred(pdf, f"修了日　{completed}", y=118, size=12)
    _centred(pdf, f"有効期限　{expires}" if expires else "有効期限なし", y=126, size=12)
    _centred(pdf, fit(pdf, issuer_text, centre_width - 40, 15), y=143, size=15, bold=True)

    # verification: code bottom left, QR bottom right with its URL underneath
    left = FRAME + 12
    pdf.styled(size=8, color=MUTED)
    pdf.put(left, 164, 80, 5, "証明書番号（真正性の確認用）")
    mono = code_text.isascii() and code_text.isprintable()
    code_size = 14.0
    shown_code = fit(pdf, code_text, 120, code_size, mono=mono)
    pdf.styled(size=code_size, mono=mono)
    if mono:
        pdf.set_font(MONO, "B", code_size)  # Courier Bold: every character distinct and the same width
    pdf.put(left, 170, pdf.text_width(shown_code, size=code_size, mono=mono), 8, shown_code, bold=not mono)
    pdf.styled(size=8, color=MUTED)
    pdf.put(left, 180, 120, 5, "右の QR コードまたは URL から、この修了証が有効か確認できます。")

    qr_x = pdf.w - FRAME - 12 - QR_SIZE - 12
    png = _qr_png(verify_url)
    if png is not None:
        pdf.image(io.BytesIO(png), x=qr_x, y=148, w=QR_SIZE, h=QR_SIZE)
    url_width = QR_SIZE + 24
    pdf.set_y(148 + QR_SIZE + 1.5)
    for part, size in url_parts(pdf, url, width=url_width):
        lines = break_lines(pdf, [Run(part, Style(color=MUTED, link=verify_url))], width=url_width, size=size)[:2]
        draw_lines(pdf, lines, x=qr_x + QR_SIZE / 2 - url_width / 2, width=url_width, size=size, leading=1.4, align="C")
    return pdf.finish()


def url_parts(pdf: Pdf, url: str, *, width: float, size: float = 7.0) -> list[tuple[str, float]]:
    """The verification URL as printed: the address, then its query (``?code=…``) on a line of its own, in a
    smaller size if need be, so the code someone types in is never broken across lines."""
    address, mark, query = url.partition("?")
    if not mark:
        return [(url, size)]
    query = mark + query
    query_size = size
    while query_size > 4.5 and pdf.text_width(query, size=query_size) > width:
        query_size -= 0.5
    return [(address, size), (query, query_size)]
