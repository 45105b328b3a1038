"""Evidence packs for a department or an employee inside the manager's scope."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app.core.db import utcnow
from app.core.deps import CurrentUser, SessionDep
from app.core.downloads import download
from app.core.templating import format_datetime, render
from app.dashboard import people
from app.dashboard.routes import ScopeDep
from app.evidence import exports, service
from app.org import service as org_service

router = APIRouter(prefix="/manage/evidence")


def _download(data: bytes, media_type: str, filename: str, fallback: str) -> Response:
    return download(data, media_type=media_type, filename=filename, ascii_fallback=fallback)


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


def _name(pack: service.EvidencePack, extension: str) -> str:
    return f"エビデンスパック_{pack.subject}_{format_datetime(pack.generated_at, '%Y%m%d')}.{extension}"


@router.get("/departments/{department_id}.csv")
async def department_csv(department_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    pack, slug = await _department_pack(db, scope, department_id)
    return _download(exports.pack_csv(pack), "text/csv; charset=utf-8", _name(pack, "csv"), f"evidence-{slug}.csv")


@router.get("/departments/{department_id}.pdf")
async def department_pdf(department_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    pack, slug = await _department_pack(db, scope, department_id)
    pdf = await run_in_threadpool(exports.pack_pdf, pack, generated_by=user.display_name)
    return _download(pdf, "application/pdf", _name(pack, "pdf"), f"evidence-{slug}.pdf")


@router.get("/employees/{user_id}.csv")
async def employee_csv(user_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    pack, slug = await _employee_pack(db, scope, user_id)
    return _download(exports.pack_csv(pack), "text/csv; charset=utf-8", _name(pack, "csv"), f"evidence-{slug}.csv")


@router.get("/employees/{user_id}.pdf")
async def employee_pdf(user_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    pack, slug = await _employee_pack(db, scope, user_id)
    pdf = await run_in_threadpool(exports.pack_pdf, pack, generated_by=user.display_name)
    return _download(pdf, "application/pdf", _name(pack, "pdf"), f"evidence-{slug}.pdf")
