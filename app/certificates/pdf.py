"""The certificate as a PDF file."""

from __future__ import annotations

from app.certificates import codes
from app.certificates.models import Certificate
from app.core.templating import format_date
from app.pdf.render import certificate_pdf

ISSUER = "カスハラ対策研修"


def verify_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/verify?code={codes.display(code)}"


def render_certificate(certificate: Certificate, *, base_url: str) -> bytes:
    return certificate_pdf(
        holder=certificate.holder_name,
        course_title=certificate.course_title,
        version_label=f"第{certificate.version_number}版",
        completed_on=format_date(certificate.completed_at),
        expires_on=format_date(certificate.expires_at) if certificate.expires_at else None,
        code=codes.display(certificate.code),
        verify_url=verify_url(base_url, certificate.code),
        issuer=ISSUER,
    )
