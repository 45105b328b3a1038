"""Evidence packs for a department or an employee inside the manager's scope."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.auth.deps import CurrentUser
from app.core.db import utcnow
from app.core.deps import SessionDep
from app.core.downloads import CSV, PDF, download
from app.core.templating import format_datetime, render
from app.dashboard import people
from app.evidence import exports, service
from app.org import service as org_service
from app.org.deps import ScopeDep

router = APIRouter(prefix="/manage/evidence")


@router.get("")
async def evidence_page(request: Request, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    departments = await org_service.departments_in_scope(db, scope=scope)
    return render(request, "evidence/evidence.html", {"departments": departments})


async def _department_pack(db: SessionDep, scope: ScopeDep, department_id: int) -> tuple[service.EvidencePack, str]:
    department = await org_service.get_department_in_scope(db, department_id=department_id, scope=scope)
    return await service.for_department(db, department=department, now=utcnow()), f"department-{department.id}"


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


@router.get("/departments/{department_id}.csv")
async def department_csv(department_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    return await _send(await _department_pack(db, scope, department_id), "csv", user)


@router.get("/departments/{department_id}.pdf")
async def department_pdf(department_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    return await _send(await _department_pack(db, scope, department_id), "pdf", user)


@router.get("/employees/{user_id}.csv")
async def employee_csv(user_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    return await _send(await _employee_pack(db, scope, user_id), "csv", user)


@router.get("/employees/{user_id}.pdf")
async def employee_pdf(user_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    return await _send(await _employee_pack(db, scope, user_id), "pdf", user)
