"""The policy and manual as files: the PDF of a version or of the draft, and the acknowledgment list as CSV.
Each returns (bytes, file name, plain file name); the routes turn them into downloads."""

from __future__ import annotations

from app.core.csvfile import csv_bytes, csv_datetime
from app.core.templating import format_date
from app.documents.acknowledgments import AckReport
from app.documents.kinds import Kind
from app.documents.models import DocumentVersion
from app.documents.service import Rendering
from app.pdf.render import document_pdf

File = tuple[bytes, str, str]


def version_pdf(kind: Kind, version: DocumentVersion) -> File:
    meta = [f"第{version.number}版", f"公開日 {format_date(version.published_at)}"]
    if version.change_note:
        meta.append(f"変更点: {version.change_note}")
    pdf = document_pdf(title=version.title, meta_lines=meta, html=version.html)
    return pdf, f"{version.title}_第{version.number}版.pdf", f"{kind.key}-v{version.number}.pdf"


def draft_pdf(kind: Kind, rendering: Rendering) -> File:
    pdf = document_pdf(title=rendering.title, meta_lines=["下書き(未公開)"], html=rendering.html)
    return pdf, f"{rendering.title}_下書き.pdf", f"{kind.key}-draft.pdf"


ACK_COLUMNS = ["氏名", "社員番号", "メールアドレス", "部署", "確認した版", "確認日時", "最新の確認"]


def acknowledgments_csv(kind: Kind, report: AckReport) -> File:
    rows = (
        [
            row.name,
            row.employee_number,
            row.email,
            row.department,
            f"第{row.acknowledged_number}版" if row.acknowledged_number else "",
            csv_datetime(row.acknowledged_at),
            "済" if row.up_to_date else "未",
        ]
        for row in report.rows
    )
    return csv_bytes(ACK_COLUMNS, rows), f"{kind.label}_確認状況.csv", f"{kind.key}-acknowledgments.csv"
