"""File downloads: the bytes with a name that keeps its Japanese."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import Response

PDF = "application/pdf"
CSV = "text/csv; charset=utf-8"


def download(data: bytes, *, media_type: str, filename: str, ascii_fallback: str) -> Response:
    """The file as an attachment: RFC 5987 browsers get the Japanese name, the rest a plain one."""
    disposition = f"attachment; filename=\"{ascii_fallback}\"; filename*=UTF-8''{quote(filename)}"
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})
