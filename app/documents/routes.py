"""The employee's side: read the company's policy or manual, download it, and acknowledge the version read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.auth.deps import CurrentUser
from app.core.deps import SessionDep
from app.core.downloads import PDF, download
from app.core.errors import AppError, NotFound
from app.core.templating import render
from app.documents import acknowledgments, exports, service

router = APIRouter(prefix="/documents")


async def _reading(db: SessionDep, kind_key: str, user) -> acknowledgments.Reading:
    reading = await acknowledgments.reading_for(db, kind=service.kind_for(kind_key), user=user)
    if reading is None:
        raise NotFound("この文書はまだ公開されていないか、あなたは対象に含まれていません。")
    return reading


@router.get("/{kind_key}")
async def read(request: Request, kind_key: str, db: SessionDep, user: CurrentUser) -> Response:
    reading = await _reading(db, kind_key, user)
    return render(request, "documents/read.html", {"reading": reading, "error": None})


@router.post("/{kind_key}/acknowledge")
async def acknowledge(
    request: Request,
    kind_key: str,
    db: SessionDep,
    user: CurrentUser,
    version: Annotated[int, Form(ge=1, le=1_000_000)],
    understood: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    kind = service.kind_for(kind_key)
    try:
        if understood != "yes":
            raise AppError("「内容を理解しました」にチェックを入れてから送信してください。")
        await acknowledgments.acknowledge(db, kind=kind, user=user, version_number=version)
    except AppError as error:
        reading = await _reading(db, kind_key, user)
        return render(
            request,
            "documents/read.html",
            {"reading": reading, "error": error.message},
            status_code=422 if error.status_code == 400 else error.status_code,
        )
    return RedirectResponse(f"/documents/{kind.key}?acknowledged=1", status_code=303)


@router.get("/{kind_key}/pdf")
async def pdf(kind_key: str, db: SessionDep, user: CurrentUser) -> Response:
    reading = await _reading(db, kind_key, user)
    # Laying out a PDF takes a few hundred milliseconds of CPU: off the event loop.
    data, name, plain = await run_in_threadpool(exports.version_pdf, reading.kind, reading.version)
    return download(data, media_type=PDF, filename=name, ascii_fallback=plain)
