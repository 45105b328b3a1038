"""Every current certificate of a department (and the departments under it) as one ZIP of PDFs, made by a job:
HR files them, an auditor asks for them, and at a few hundred certificates the PDFs take too long for a request.
"""

from __future__ import annotations

import asyncio
import io
import re
import zipfile
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.certificates import service as certificates_service
from app.certificates.models import Certificate
from app.certificates.pdf import render_certificate
from app.core.db import utcnow
from app.core.errors import AppError
from app.jobs import queue
from app.jobs.context import JobContext, PermanentJobError
from app.jobs.registry import JobKind
from app.org import service as org_service
from app.org.models import Department
from app.org.scope import Scope

PROGRESS_EVERY = 25
UNSAFE_IN_FILENAMES = re.compile(r'[\\/:*?"<>|\s]+')


async def request_department_certificates(
    session: AsyncSession, *, requester: User, scope: Scope, department_id: int
) -> int:
    department = await org_service.get_department_in_scope(session, department_id=department_id, scope=scope)
    job_id = await queue.enqueue(
        session,
        DEPARTMENT_CERTIFICATES,
        {"department_id": department.id, "requester_id": requester.id},
        subject=f"修了証の一括ダウンロード: {department.name}",
        created_by_id=requester.id,
    )
    assert job_id is not None
    return job_id


async def newest_certificates(session: AsyncSession, *, department: Department) -> list[Certificate]:
    """Each active employee's newest certificate per course, in the department's subtree, not expired."""
    now = utcnow()
    statement = (
        select(Certificate)
        .join(*certificates_service.newest_of_each_course())
        .join(User, User.id == Certificate.user_id)
        .join(Department, Department.id == User.department_id)
        .where(User.is_active.is_(True), Department.path.startswith(department.path, autoescape=True))
        .where((Certificate.expires_at.is_(None)) | (Certificate.expires_at > now))
        .order_by(Certificate.holder_name, Certificate.id)
    )
    return list(await session.scalars(statement))


def entry_name(certificate: Certificate) -> str:
    name = UNSAFE_IN_FILENAMES.sub("_", f"{certificate.holder_name}_{certificate.course_title}")
    return f"{name}_{certificate.code}.pdf"


async def make_department_certificates(context: JobContext) -> dict[str, Any]:
    payload = context.payload
    try:
        async with context.transaction() as session:
            requester = await session.get(User, int(payload["requester_id"]))
            if requester is None or not requester.is_active:
                raise PermanentJobError("依頼した人のアカウントがありません。")
            scope = await org_service.scope_for(session, user=requester)
            department = await org_service.get_department_in_scope(
                session, department_id=int(payload["department_id"]), scope=scope
            )
            certificates = await newest_certificates(session, department=department)
            await context.step(session, done=0, total=len(certificates))
    except AppError as error:  # the department is no longer the requester's to see
        raise PermanentJobError(error.message) from error
    if not certificates:
        raise PermanentJobError(f"{department.name} には有効な修了証がありません。")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:  # PDFs are compressed already
        for done, certificate in enumerate(certificates, start=1):
            pdf = await asyncio.to_thread(render_certificate, certificate, base_url=context.settings.base_url)
            archive.writestr(entry_name(certificate), pdf)
            if done % PROGRESS_EVERY == 0:
                async with context.transaction() as session:
                    await context.step(session, done=done)
    filename = f"修了証_{department.name}_{utcnow().strftime('%Y%m%d')}.zip"
    async with context.transaction() as session:
        await context.attach_file(session, filename=filename, media_type="application/zip", content=buffer.getvalue())
        await context.step(session, done=len(certificates))
    return {"filename": filename, "certificates": len(certificates)}


DEPARTMENT_CERTIFICATES = JobKind(
    "certificates.department_zip",
    make_department_certificates,
    max_attempts=3,
    timeout_seconds=3600,
    label="修了証の一括ダウンロード",
)
