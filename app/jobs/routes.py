"""The ジョブ page for admins, and one job's progress for the person who started it (polled by HTMX)."""

from __future__ import annotations

from pathlib import PurePath

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.auth.deps import AdminUser, CurrentUser
from app.auth.models import Role
from app.core.deps import SessionDep
from app.core.downloads import download
from app.core.errors import NotFound
from app.core.ids import MAX_ID, page_number
from app.core.templating import is_htmx, render
from app.jobs import queue, service
from app.jobs.models import Job, JobState

router = APIRouter()


@router.get("/admin/jobs")
async def jobs_page(
    request: Request, db: SessionDep, _admin: AdminUser, state: JobState | None = None, page: int = 1
) -> Response:
    context = {
        "jobs": await service.list_jobs(db, state=state, page=page_number(page)),
        "counts": await service.counts_by_state(db),
        "state": state,
        "states": list(JobState),
        "page": page_number(page),
    }
    return render(request, "jobs/jobs.html", context, block="job_list" if is_htmx(request) else None)


@router.post("/admin/jobs/{job_id}/retry")
async def retry(db: SessionDep, _admin: AdminUser, job_id: int) -> RedirectResponse:
    if job_id > MAX_ID or not await queue.retry_now(db, job_id=job_id):
        raise NotFound("再実行できるジョブが見つかりません(失敗または停止したジョブだけを再実行できます)。")
    return RedirectResponse(f"/admin/jobs?retried={job_id}", status_code=303)


async def _visible_job(db: SessionDep, user: CurrentUser, job_id: int) -> Job:
    job = None
    if job_id <= MAX_ID:
        job = await service.job_for(db, job_id=job_id, user_id=user.id, is_admin=user.role == Role.ADMIN)
    if job is None:
        raise NotFound("ジョブが見つかりません。")
    return job


@router.get("/jobs/{job_id}")
async def job_panel(request: Request, db: SessionDep, user: CurrentUser, job_id: int) -> Response:
    """The progress of one job: a fragment the page that started it polls until the job has finished."""
    job = await _visible_job(db, user, job_id)
    has_file = job.state == JobState.SUCCEEDED and await service.has_file(db, job_id=job.id)
    template = "jobs/_panel.html" if is_htmx(request) else "jobs/job.html"
    return render(request, template, {"job": job, "has_file": has_file})


@router.get("/jobs/{job_id}/file")
async def job_file(db: SessionDep, user: CurrentUser, job_id: int) -> Response:
    job = await _visible_job(db, user, job_id)
    produced = await service.file_of(db, job_id=job.id)
    if produced is None:
        raise NotFound("このジョブのファイルはまだできていないか、保存期間が過ぎました。")
    return download(
        produced.content,
        media_type=produced.media_type,
        filename=produced.filename,
        ascii_fallback=f"job-{job.id}{PurePath(produced.filename).suffix}",
    )
