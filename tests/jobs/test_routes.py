"""The ジョブ page, one job's progress for the person who started it, the retry button and /healthz?detail=1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.jobs import queue
from app.jobs.models import Job, JobState
from tests.conftest import make_user, sign_in
from tests.jobs.test_queue import FAIL, RECORD, worker


async def test_admins_see_every_job_with_its_state_error_and_a_retry(
    app, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await make_user(db, "admin@example.com", Role.ADMIN)
    await queue.enqueue(db, FAIL, subject="壊れた処理")
    waiting = await queue.enqueue(db, RECORD, {"n": 1}, subject="待っている処理", total=10)
    await db.commit()
    await worker(app).run_until_idle()  # both run: the failing one waits for its retry
    await queue.enqueue(db, RECORD, {"n": 2}, subject="待っている処理", total=10)
    await db.execute(update(Job).where(Job.kind == FAIL.name).values(attempts=3, state=JobState.DEAD))
    await db.commit()
    await sign_in(client, "admin@example.com")
    page = BeautifulSoup((await client.get("/admin/jobs")).text, "html.parser")
    rows = {row.select("td")[1].get_text(" ", strip=True): row for row in page.select("tbody tr")}
    dead = rows["壊れた処理 test.fail"]
    assert "停止(再試行の上限)" in dead.get_text() and "壊れています" in dead.select_one("pre").get_text()
    assert dead.select_one("form")["action"].endswith("/retry")
    tabs = [a.get_text(strip=True) for a in page.select("nav.tabs a")]
    assert "停止 (1)" in tabs and "完了 (1)" in tabs and "待機中 (1)" in tabs
    assert page.select_one("#job-list")["hx-trigger"] == "every 2s"  # refreshes while something waits
    only_dead = BeautifulSoup((await client.get("/admin/jobs?state=dead")).text, "html.parser")
    assert len(only_dead.select("tbody tr")) == 1
    job_id = dead.select("td")[0].get_text(strip=True)
    retried = await client.post(f"/admin/jobs/{job_id}/retry")
    assert retried.status_code == 303
    db.expire_all()
    job = await db.get(Job, int(job_id))
    assert job is not None and job.state == JobState.QUEUED and job.attempts == 0
    again = await client.post(f"/admin/jobs/{waiting}/retry")  # succeeded: nothing to retry
    assert again.status_code == 404 and "再実行できるジョブ" in again.text


async def test_only_the_starter_and_admins_see_a_jobs_progress(
    app, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    starter = await make_user(db, "starter@example.com", Role.MANAGER)
    await make_user(db, "other@example.com", Role.MANAGER)
    job_id = await queue.enqueue(db, RECORD, {"n": 1}, subject="督促メール", created_by_id=starter.id, total=4)
    await db.commit()
    await sign_in(client, "other@example.com")
    assert (await client.get(f"/jobs/{job_id}")).status_code == 404
    assert (await client.get("/admin/jobs")).status_code == 403
    await sign_in(client, "starter@example.com")
    page = await client.get(f"/jobs/{job_id}")
    assert page.status_code == 200 and "督促メール" in page.text and "待機中" in page.text
    await db.execute(update(Job).values(state=JobState.RUNNING, progress_done=1))
    await db.commit()
    panel = BeautifulSoup((await client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})).text, "html.parser")
    assert panel.select_one("progress")["value"] == "25" and "1 / 4" in panel.get_text()
    assert (await client.get("/jobs/99999999999")).status_code in (404, 422)


async def test_health_detail_counts_jobs_and_the_oldest_wait(app, client: httpx.AsyncClient, db: AsyncSession) -> None:
    await queue.enqueue(db, RECORD, {"n": 1}, run_at=datetime.now(UTC) - timedelta(minutes=5))
    await queue.enqueue(db, RECORD, {"n": 2}, run_at=datetime.now(UTC) + timedelta(hours=1))  # not due: not waiting
    await db.commit()
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    detail = (await client.get("/healthz?detail=1")).json()
    assert detail["jobs"]["counts"]["queued"] == 2 and detail["jobs"]["counts"]["dead"] == 0
    assert 295 <= detail["jobs"]["oldest_waiting_seconds"] <= 400
