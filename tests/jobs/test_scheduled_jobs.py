"""The work that moved onto jobs besides the 督促: certificate-expiry notices, the managers' daily digest, the
recurring cycles' schedule, a department's certificates as one ZIP."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.certificates.expiry_notices import EXPIRY_NOTICES
from app.certificates.models import Certificate
from app.core.db import utcnow
from app.dashboard.digest import DAILY_DIGEST
from app.jobs import queue, registry
from app.jobs.models import Job, JobState
from app.jobs.worker import Worker, WorkerOptions
from app.mail.models import OutboxMessage
from tests.assignments.test_recurrence import recurring
from tests.conftest import run_jobs, sign_in
from tests.org_fixture import Org


async def outbox(db: AsyncSession) -> list[OutboxMessage]:
    db.expire_all()
    return list(await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_holders_hear_once_that_their_certificate_expires_soon(app, db: AsyncSession, org: Org) -> None:
    (certificate,) = await db.scalars(select(Certificate).where(Certificate.user_id == org.users["e2"].id))
    await db.execute(update(Certificate).values(expires_at=utcnow() + timedelta(days=10)))
    await db.commit()
    for _run in range(2):  # the next day's run finds nothing new to say
        await queue.enqueue(db, EXPIRY_NOTICES)
        await db.commit()
        assert await run_jobs(app) == 1
    (mail,) = await outbox(db)
    assert mail.to_address == "e2@example.com" and mail.subject.startswith("【修了証の有効期限】")
    assert "/courses/" in mail.body
    await db.refresh(certificate)
    assert certificate.expiry_notified_at is not None


async def test_managers_get_a_digest_only_when_someone_is_overdue(app, db: AsyncSession, org: Org) -> None:
    await queue.enqueue(db, DAILY_DIGEST)
    await db.commit()
    assert await run_jobs(app) == 1
    mails = {mail.to_address: mail for mail in await outbox(db)}
    assert "manager.a@example.com" in mails
    assert "修了 1/3 人(33%)、期限超過 2 人" in mails["manager.a@example.com"].body  # e2 done; e1, e3 late
    assert all("期限超過" in mail.body for mail in mails.values())


async def test_recurring_cycles_open_through_their_schedule(app, db: AsyncSession, org: Org) -> None:
    assert "training-cycles" in {item.name for item in registry.schedules()}  # LMS_CYCLE_CHECK_MINUTES=60
    assignment = await recurring(db, org)
    assignment.opens_at = utcnow() - timedelta(days=400)  # a year and more ago: the next cycle is due
    await db.commit()
    options = WorkerOptions(run_schedules=True)
    await Worker(app.state.sessionmaker, app.state.settings, options).run_until_idle()
    job = await db.scalar(select(Job).where(Job.kind == "assignments.open_cycles"))
    assert job is not None and job.state == JobState.SUCCEEDED and job.result == {"opened": 1}
    assert job.idempotency_key.startswith("schedule:training-cycles:")


async def test_a_departments_certificates_come_as_one_zip(app, client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, "manager.b@example.com")
    sales = org.departments["営業部"].id
    assert (await client.post("/manage/certificates/bulk", data={"department_id": sales})).status_code == 404
    await sign_in(client, "manager.a@example.com")
    started = await client.post("/manage/certificates/bulk", data={"department_id": sales})
    assert started.status_code == 303
    job_id = started.headers["location"].rsplit("job=", 1)[1]
    assert await run_jobs(app) == 1
    panel = await client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    assert "/file" in panel.text
    download = await client.get(f"/jobs/{job_id}/file")
    assert download.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(download.content)).namelist()
    assert len(names) == 1 and names[0].startswith(org.users["e2"].display_name.replace(" ", "_"))
    assert (await client.get(f"/jobs/{job_id}/file")).status_code == 200
    await sign_in(client, "manager.b@example.com")
    assert (await client.get(f"/jobs/{job_id}/file")).status_code == 404  # only its starter (and admins)
