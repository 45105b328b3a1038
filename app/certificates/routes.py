"""修了証: the learner's own certificates and PDFs, the public verification page, and the managers' list of
certificates about to expire."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.auth.deps import CurrentUser
from app.certificates import bulk, codes, service
from app.certificates.pdf import render_certificate
from app.core.db import utcnow
from app.core.deps import SessionDep
from app.core.downloads import PDF, download
from app.core.templating import render
from app.org import service as org_service
from app.org.deps import ScopeDep

router = APIRouter()


@router.get("/my/certificates")
async def my_certificates(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    context = {
        "certificates": await service.for_user(db, user_id=user.id),
        "now": utcnow(),
        "display": codes.display,
        "standing": service.standing,
    }
    return render(request, "certificates/mine.html", context)


@router.get("/my/certificates/{certificate_id}/pdf")
async def my_certificate_pdf(request: Request, certificate_id: int, db: SessionDep, user: CurrentUser) -> Response:
    certificate = await service.get_own(db, certificate_id=certificate_id, user_id=user.id)
    base_url = request.app.state.settings.base_url
    data = await run_in_threadpool(render_certificate, certificate, base_url=base_url)
    name = f"修了証_{certificate.course_title}.pdf"
    return download(data, media_type=PDF, filename=name, ascii_fallback=f"certificate-{certificate.code[:8]}.pdf")


@router.get("/verify")
async def verify(request: Request, db: SessionDep, code: Annotated[str, Query(max_length=64)] = "") -> Response:
    """Public: says whether a code belongs to a genuine certificate, and shows only what the certificate itself
    shows. Nothing here is reachable without the code, and the code is not guessable."""
    result = await service.verify(db, text=code, now=utcnow()) if code.strip() else None
    status_code = 200 if result is None or result.verdict in (service.Verdict.VALID, service.Verdict.EXPIRED) else 404
    return render(
        request,
        "certificates/verify.html",
        {"result": result, "typed": code, "display": codes.display},
        status_code=status_code,
        headers={"X-Robots-Tag": "noindex"},
    )


@router.get("/manage/certificates")
async def expiries(request: Request, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    rows = await service.upcoming_expiries(db, scope=scope, now=utcnow())
    departments = await org_service.departments_in_scope(db, scope=scope)
    context = {"rows": rows, "display": codes.display, "departments": departments}
    return render(request, "certificates/expiries.html", context)


@router.post("/manage/certificates/bulk")
async def bulk_download(
    db: SessionDep, user: CurrentUser, scope: ScopeDep, department_id: Annotated[int, Form()]
) -> Response:
    """Every current certificate of a department as one ZIP, made by a job this page then follows."""
    job_id = await bulk.request_department_certificates(db, requester=user, scope=scope, department_id=department_id)
    return RedirectResponse(f"/manage/certificates?job={job_id}", status_code=303)
