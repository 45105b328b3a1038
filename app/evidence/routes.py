"""Evidence packs for a department (made by a job) or an employee inside the manager's scope."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.auth.deps import CurrentUser
from app.core.db import utcnow
from app.core.deps import SessionDep
from app.core.downloads import CSV, PDF, download
from app.core.templating import format_datetime, render
from app.dashboard import people
from app.evidence import exports, jobs, service
from app.org import service as org_service
from app.org.deps import ScopeDep

router = APIRouter(prefix="/manage/evidence")


@router.get("")
async def evidence_page(request: Request, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    departments = await org_service.departments_in_scope(db, scope=scope)
    return render(request, "evidence/evidence.html", {"departments": departments})


async def _employee_pack(db: SessionDep, scope: ScopeDep, user_id: int) -> tuple[service.EvidencePack, str]:
    employee = await people.get_employee(db, user_id=user_id, scope=scope)
    return await service.for_employee(db, user_id=employee.user.id, now=utcnow()), f"employee-{employee.user.id}"


async def _send(found: tuple[service.EvidencePack, str], extension: str, user: CurrentUser) -> Response:
    """The pack as the file asked for; a PDF is laid out off the event loop (seconds for a large department)."""
    pack, slug = found
    if extension == "pdf":
        data = await run_in_threadpool(exports.pack_pdf, pack, generated_by=user.display_name)
    else:
        data = exports.pack_csv(pack)
    filename = f"エビデンスパック_{pack.subject}_{format_datetime(pack.generated_at, '%Y%m%d')}.{extension}"
    return download(
        data,
        media_type=PDF if extension == "pdf" else CSV,
        filename=filename,
        ascii_fallback=f"evidence-{slug}.{extension}",
    )


@router.post("/departments/{department_id}/pack")
async def department_pack(
    department_id: int,
    db: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    file_format: Annotated[Literal["pdf", "csv"], Form(alias="format")] = "pdf",
) -> Response:
    """A department's pack is made by a job (it can hold tens of thousands of records); this page follows it."""
    job_id = await jobs.request_department_pack(
        db, requester=user, scope=scope, department_id=department_id, file_format=file_format
    )
    return RedirectResponse(f"/manage/evidence?job={job_id}", status_code=303)


@router.get("/employees/{user_id}.csv")
async def employee_csv(user_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    return await _send(await _employee_pack(db, scope, user_id), "csv", user)


@router.get("/employees/{user_id}.pdf")
async def employee_pdf(user_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    return await _send(await _employee_pack(db, scope, user_id), "pdf", user)
