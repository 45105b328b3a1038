"""Downloads of the policy and manual: the PDF of a version or of the draft, and the acknowledgment list."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

from app.core.csvfile import csv_bytes
from app.core.templating import format_date, format_datetime
from app.pdf.render import document_pdf
from app.policies.acknowledgments import AckReport
from app.policies.kinds import Kind
from app.policies.models import DocumentVersion
from app.policies.service import Rendering


def attachment(filename: str, ascii_fallback: str) -> dict[str, str]:
    """A download name that keeps its Japanese in browsers that read RFC 5987, and a plain one for the rest."""
    return {"Content-Disposition": f"attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{quote(filename)}"}


def version_pdf(kind: Kind, version: DocumentVersion) -> bytes:
    meta = [f"第{version.number}版", f"公開日 {format_date(version.published_at)}"]
    if version.change_note:
        meta.append(f"変更点: {version.change_note}")
    return document_pdf(title=version.title, meta_lines=meta, html=version.html)


def version_pdf_response(kind: Kind, version: DocumentVersion) -> Response:
    return Response(version_pdf(kind, version), media_type="application/pdf",
                    headers=attachment(f"{version.title}_第{version.number}版.pdf",
                                       f"{kind.key}-v{version.number}.pdf"))  # fmt: skip


def draft_pdf_response(kind: Kind, rendering: Rendering) -> Response:
    pdf = document_pdf(title=rendering.title, meta_lines=["下書き(未公開)"], html=rendering.html)
    return Response(pdf, media_type="application/pdf",
                    headers=attachment(f"{rendering.title}_下書き.pdf", f"{kind.key}-draft.pdf"))  # fmt: skip


ACK_COLUMNS = ["氏名", "社員番号", "メールアドレス", "部署", "確認した版", "確認日時", "最新の確認"]


def acknowledgments_csv_response(kind: Kind, report: AckReport) -> Response:
    rows = (
        [row.name, row.employee_number, row.email, row.department,
         f"第{row.acknowledged_number}版" if row.acknowledged_number else "",
         format_datetime(row.acknowledged_at), "済" if row.up_to_date else "未"]
        for row in report.rows
    )  # fmt: skip
    return Response(csv_bytes(ACK_COLUMNS, rows), media_type="text/csv; charset=utf-8",
                    headers=attachment(f"{kind.label}_確認状況.csv", f"{kind.key}-acknowledgments.csv"))  # fmt: skip
