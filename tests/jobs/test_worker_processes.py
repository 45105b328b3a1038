"""Real `lms worker` processes: one is killed (SIGKILL) half-way through a 督促 of hundreds of employees, another
finishes the work; every employee gets the mail (each Message-ID reaches the SMTP sink), each reminder is logged
exactly once, and SIGTERM stops a worker cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.content import service as content_service
from app.content.models import Course
from app.dashboard import reminders
from app.dashboard.models import Reminder
from app.jobs.models import Job, JobState
from app.mail.models import OutboxMessage
from bench.seed import seed_overdue
from tests.server_process import ROOT, free_port

EMPLOYEES = 400


class SlowSink:
    """An SMTP server that takes a few milliseconds a mail, so a kill lands mid-run; it keeps every Message-ID."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # aiosmtpd's hook
        await asyncio.sleep(0.004)
        self.message_ids.append(str(message_from_bytes(envelope.content)["Message-ID"]))
        return "250 OK"


@pytest.fixture
def sink() -> Iterator[tuple[int, SlowSink]]:
    handler, port = SlowSink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, handler
    controller.stop()


def start_worker(database_url: str, smtp_port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LMS_ENV": "test",
        "LMS_SECRET_KEY": "w" * 48,
        "LMS_DATABASE_URL": database_url,
        "LMS_SMTP_HOST": "127.0.0.1",
        "LMS_SMTP_PORT": str(smtp_port),
        "LMS_SMTP_STARTTLS": "false",
        "LMS_JOB_LEASE_SECONDS": "2",  # a killed worker's jobs are taken over two seconds later
    }
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "--concurrency", "2", "--no-schedules"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


async def test_a_killed_worker_loses_nothing_and_the_next_one_does_nothing_twice(
    app, db: AsyncSession, database_url: str, mini_course: Course, sink, tmp_path: Path
) -> None:
    port, handler = sink
    organisation = await seed_overdue(db, count=EMPLOYEES, course_slug=mini_course.slug)
    await db.commit()
    admin = await db.get(User, organisation.admin_id)
    assert admin is not None
    _course, version = await content_service.get_course(db, slug=mini_course.slug)
    await reminders.request_reminders(
        db, sender=admin, course=mini_course, version=version, now=datetime.now(UTC), user_ids=[], all_overdue=True
    )
    await db.commit()
    log = tmp_path / "workers.log"

    first = start_worker(database_url, port, log)
    try:
        assert wait_for(lambda: len(handler.message_ids) >= 60, 60), log.read_text()
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    received_at_kill = len(handler.message_ids)
    assert received_at_kill < EMPLOYEES  # the kill did land half-way

    second = start_worker(database_url, port, log)
    try:
        assert wait_for(lambda: len(set(handler.message_ids)) >= EMPLOYEES, 90), log.read_text()
        time.sleep(0.5)  # anything sent twice would arrive now
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0, log.read_text()  # a clean stop on SIGTERM

    db.expire_all()
    assert len(set(handler.message_ids)) == EMPLOYEES  # nobody missed
    # At most the mails in flight at the kill (one per running delivery job) arrive twice, with the same
    # Message-ID, which receiving mail systems drop.
    assert len(handler.message_ids) - EMPLOYEES <= 2
    logged = await db.execute(select(Reminder.user_id, func.count()).group_by(Reminder.user_id))
    assert sorted(logged.all()) == [(user_id, 1) for user_id in organisation.user_ids]  # logged exactly once
    unsent = await db.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))
    assert unsent == 0
    states = set(await db.scalars(select(Job.state)))
    assert states == {JobState.SUCCEEDED}
