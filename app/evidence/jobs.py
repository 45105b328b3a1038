"""A department's evidence pack, made by a job: for a whole company it is tens of thousands of records and
seconds of PDF layout, too much for a request. The manager asks on the evidence page, follows the job there and
downloads the file when it is ready (kept with the job for a month, for them and admins only)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core.db import utcnow
from app.core.downloads import CSV, PDF
from app.core.errors import AppError
from app.core.templating import format_datetime
from app.evidence import exports, service
from app.jobs import queue
from app.jobs.context import JobContext, PermanentJobError
from app.jobs.registry import JobKind
from app.org import service as org_service
from app.org.models import Department
from app.org.scope import Scope

FORMATS = ("pdf", "csv")


async def request_department_pack(
    session: AsyncSession, *, requester: User, scope: Scope, department_id: int, file_format: str
) -> int:
    """Check the department is the requester's to see, then enqueue its pack; returns the job's id."""
    department = await org_service.get_department_in_scope(session, department_id=department_id, scope=scope)
    job_id = await queue.enqueue(
        session,
        DEPARTMENT_PACK,
        {"department_id": department.id, "format": file_format, "requester_id": requester.id},
        subject=f"エビデンスパック({file_format.upper()}): {department.name}",
        created_by_id=requester.id,
        total=3,
    )
    assert job_id is not None
    return job_id


async def make_department_pack(context: JobContext) -> dict[str, Any]:
    payload = context.payload
    file_format = payload["format"] if payload.get("format") in FORMATS else "csv"
    try:
        return await _make(context, file_format)
    except AppError as error:  # out of scope now, or too many records for a PDF: the message says what to do
        raise PermanentJobError(error.message) from error


async def _make(context: JobContext, file_format: str) -> dict[str, Any]:
    payload = context.payload
    async with context.transaction() as session:
        requester = await session.get(User, int(payload["requester_id"]))
        if requester is None or not requester.is_active:
            raise PermanentJobError("依頼した人のアカウントがありません。")
        # The scope as it is now: someone who no longer manages the department gets nothing.
        scope = await org_service.scope_for(session, user=requester)
        department: Department = await org_service.get_department_in_scope(
            session, department_id=int(payload["department_id"]), scope=scope
        )
        pack = await service.for_department(session, department=department, now=utcnow())
        await context.step(session, done=1)
    if file_format == "pdf":
        # fpdf2 is pure Python: laid out in a thread so the worker's other jobs (and, in process, the web app)
        # keep running.
        data = await asyncio.to_thread(exports.pack_pdf, pack, generated_by=requester.display_name)
    else:
        data = exports.pack_csv(pack)
    filename = f"エビデンスパック_{pack.subject}_{format_datetime(pack.generated_at, '%Y%m%d')}.{file_format}"
    async with context.transaction() as session:
        await context.attach_file(
            session, filename=filename, media_type=PDF if file_format == "pdf" else CSV, content=data
        )
        await context.step(session, done=3)
    return {"filename": filename, "bytes": len(data), "people": len(pack.people)}


DEPARTMENT_PACK = JobKind(
    "evidence.department_pack", make_department_pack, max_attempts=3, timeout_seconds=1800, label="エビデンスパック"
)
