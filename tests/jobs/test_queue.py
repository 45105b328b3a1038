"""The job table and the worker, in process: enqueue with the cause, idempotency, leases, retries to dead,
timeouts, graceful shutdown, racing workers and schedules. Runs on SQLite and (in CI) PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.jobs import queue, registry, schedules
from app.jobs.context import JobContext
from app.jobs.models import Job, JobState
from app.jobs.registry import JobKind, Schedule
from app.jobs.worker import Worker, WorkerOptions
from app.mail.models import OutboxMessage

RAN: list[int] = []


async def record_run(context: JobContext) -> dict[str, int]:
    RAN.append(int(context.payload["n"]))
    await asyncio.sleep(0.001)
    return {"n": int(context.payload["n"])}


async def always_fail(context: JobContext) -> None:
    raise RuntimeError(f"壊れています (attempt {context.attempt})")


async def sleep_long(context: JobContext) -> None:
    await asyncio.sleep(float(context.payload.get("seconds", 30)))


RECORD = JobKind("test.record", record_run, label="テスト")
FAIL = JobKind("test.fail", always_fail, max_attempts=3)
SLOW = JobKind("test.slow", sleep_long, timeout_seconds=1, max_attempts=2)
registry.register(RECORD, FAIL, SLOW)


@pytest.fixture(autouse=True)
def _clear_runs() -> None:
    RAN.clear()


def worker(app, **options: object) -> Worker:
    return Worker(app.state.sessionmaker, app.state.settings, WorkerOptions(run_schedules=False, **options))


async def jobs(db: AsyncSession) -> list[Job]:
    db.expire_all()
    return list(await db.scalars(select(Job).order_by(Job.id)))


async def test_a_job_exists_if_and_only_if_its_cause_committed(app, db: AsyncSession) -> None:
    db.add(User(email="cause@example.com", display_name="原因", role="learner"))
    await queue.enqueue(db, RECORD, {"n": 1})
    await db.rollback()
    assert await jobs(db) == [] and await db.scalar(select(func.count()).select_from(User)) == 0
    db.add(User(email="cause@example.com", display_name="原因", role="learner"))
    await queue.enqueue(db, RECORD, {"n": 2})
    await db.commit()
    assert [job.payload for job in await jobs(db)] == [{"n": 2}]


async def test_a_key_enqueues_once(app, db: AsyncSession) -> None:
    first = await queue.enqueue(db, RECORD, {"n": 1}, key="batch-7")
    second = await queue.enqueue(db, RECORD, {"n": 2}, key="batch-7")
    await db.commit()
    assert first is not None and second is None
    assert await worker(app).run_until_idle() == 1 and RAN == [1]
    # still once after it ran: the key belongs to the job for as long as the job is kept
    assert await queue.enqueue(db, RECORD, {"n": 3}, key="batch-7") is None


async def test_a_job_that_always_fails_is_retried_with_backoff_then_dead(app, db: AsyncSession) -> None:
    await queue.enqueue(db, FAIL)
    await db.commit()
    run_at_gaps = []
    for attempt in range(1, 4):
        assert await worker(app).run_until_idle() == 1
        (job,) = await jobs(db)
        assert job.attempts == attempt and "壊れています" in (job.last_error or "")
        if attempt < 3:
            assert job.state == JobState.FAILED
            run_at_gaps.append((job.run_at - datetime.now(UTC)).total_seconds())
            assert await worker(app).run_until_idle() == 0  # not due yet: the backoff holds it back
            await db.execute(update(Job).values(run_at=datetime.now(UTC)))  # time passes
            await db.commit()
    assert job.state == JobState.DEAD and job.finished_at is not None
    assert 2 <= run_at_gaps[0] <= 8 and 5 <= run_at_gaps[1] <= 15  # 5 s, then 10 s, each with ±50 % jitter
    assert await worker(app).run_until_idle() == 0  # dead stays dead …
    assert await queue.retry_now(db, job_id=job.id)  # … until a person retries it
    await db.commit()
    assert (await jobs(db))[0].state == JobState.QUEUED and (await jobs(db))[0].attempts == 0


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    assert [queue.backoff_seconds(n, jitter=0.5) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert queue.backoff_seconds(30, jitter=0.5) == queue.BACKOFF_CAP_SECONDS
    assert queue.backoff_seconds(1, jitter=0.0) == 2.5 and queue.backoff_seconds(1, jitter=1.0) == 7.5


async def test_an_expired_lease_is_taken_over_and_the_old_holder_can_write_nothing(app, db: AsyncSession) -> None:
    await queue.enqueue(db, RECORD, {"n": 1})
    await db.commit()
    (first,) = await queue.claim(db, worker="a", limit=5, lease_seconds=30)
    await db.commit()
    assert await queue.claim(db, worker="b", limit=5, lease_seconds=30) == []  # leased: nobody else takes it
    await db.execute(update(Job).values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)))  # "a" died
    (second,) = await queue.claim(db, worker="b", limit=5, lease_seconds=30)
    await db.commit()
    assert second.job_id == first.job_id and second.attempts == 2
    assert not await queue.save_progress(db, first, done=1)  # "a" woke up: its writes change nothing
    assert not await queue.succeed(db, first, result=None)
    assert await queue.succeed(db, second, result={"by": "b"})
    await db.commit()
    (job,) = await jobs(db)
    assert job.state == JobState.SUCCEEDED and job.result == {"by": "b"} and job.worker == "b"


async def test_a_dead_workers_last_attempt_ends_dead_not_retried_forever(app, db: AsyncSession) -> None:
    await queue.enqueue(db, FAIL)
    await db.commit()
    await db.execute(
        update(Job).values(
            state=JobState.RUNNING, attempts=3, worker="gone", lease_expires_at=datetime.now(UTC) - timedelta(1)
        )
    )
    await db.commit()
    assert await worker(app).run_until_idle() == 0
    (job,) = await jobs(db)
    assert job.state == JobState.DEAD and "応答しなくなりました" in (job.last_error or "")


async def test_a_job_that_runs_too_long_is_stopped_and_counted_as_a_failure(app, db: AsyncSession) -> None:
    await queue.enqueue(db, SLOW, {"seconds": 5})
    await db.commit()
    await worker(app).run_until_idle()
    (job,) = await jobs(db)
    assert job.state == JobState.FAILED and "時間切れ" in (job.last_error or "")


async def test_shutdown_lets_short_jobs_finish_and_gives_long_ones_back(app, db: AsyncSession) -> None:
    await queue.enqueue(db, SLOW, {"seconds": 0.2})
    await queue.enqueue(db, SLOW, {"seconds": 30})
    await db.commit()
    running = worker(app, concurrency=2, poll_seconds=0.05, shutdown_grace_seconds=0.6)
    task = asyncio.create_task(running.run())
    for _ in range(100):
        await asyncio.sleep(0.05)
        if len(running._running) == 2:
            break
    running.stop()  # what SIGTERM does in `lms worker`
    await asyncio.wait_for(task, 5)
    short, long = await jobs(db)
    assert short.state == JobState.SUCCEEDED
    assert long.state == JobState.QUEUED and long.attempts == 0 and long.worker is None  # given back, not failed


async def test_two_workers_racing_run_every_job_exactly_once(app, db: AsyncSession) -> None:
    for n in range(200):
        await queue.enqueue(db, RECORD, {"n": n})
    await db.commit()
    first, second = worker(app, concurrency=8), worker(app, concurrency=8)
    ran = await asyncio.gather(first.run_until_idle(), second.run_until_idle())
    assert sum(ran) == 200 and sorted(RAN) == list(range(200))
    assert {job.state for job in await jobs(db)} == {JobState.SUCCEEDED}
    assert {job.worker for job in await jobs(db)} == {first.name, second.name}  # both took part


async def test_an_unknown_kind_is_dead_at_once_with_a_reason(app, db: AsyncSession) -> None:
    await queue.enqueue(db, JobKind("test.nobody-runs-this", record_run))
    await db.commit()
    await worker(app).run_until_idle()
    (job,) = await jobs(db)
    assert job.state == JobState.DEAD and "test.nobody-runs-this" in (job.last_error or "")


async def test_each_schedule_slot_is_enqueued_once_however_many_workers_look(app, db: AsyncSession) -> None:
    hourly = Schedule("test-hourly", RECORD, every=timedelta(hours=1), payload={"n": 9})
    registry.schedule(hourly)
    try:
        now = datetime(2026, 12, 3, 10, 15, tzinfo=UTC)
        assert await schedules.enqueue_due(db, now=now) >= 1
        assert await schedules.enqueue_due(db, now=now + timedelta(minutes=30)) == 0  # same slot
        assert await schedules.enqueue_due(db, now=now + timedelta(hours=1)) >= 1  # the next one
        await db.commit()
        keys = [job.idempotency_key for job in await jobs(db) if job.kind == "test.record"]
        assert keys == ["schedule:test-hourly:2026-12-03T10:00", "schedule:test-hourly:2026-12-03T11:00"]
    finally:
        registry.unschedule("test-hourly")


async def test_a_daily_slot_long_past_is_not_caught_up(app, db: AsyncSession) -> None:
    daily = Schedule("test-daily-late", RECORD, daily_at=time(8, 0), catch_up=timedelta(hours=6))
    registry.schedule(daily)
    try:
        late = "schedule:test-daily-late:2026-12-03T23:00"
        await schedules.enqueue_due(db, now=datetime(2026, 12, 4, 5, 59, tzinfo=UTC))  # 14:59 in Japan: too late
        assert late not in {job.idempotency_key for job in await jobs(db)}
        await schedules.enqueue_due(db, now=datetime(2026, 12, 3, 23, 5, tzinfo=UTC))  # 08:05 in Japan
        assert late in {job.idempotency_key for job in await jobs(db)}
    finally:
        registry.unschedule("test-daily-late")


def test_a_daily_slot_is_in_japan_time() -> None:
    daily = Schedule("test-daily", RECORD, daily_at=time(8, 0))
    before_eight = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)  # 07:00 on the 4th in Japan
    after_eight = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)  # 08:30 on the 4th in Japan
    assert schedules.current_slot(daily, before_eight) == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    assert schedules.current_slot(daily, after_eight) == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)


async def test_progress_is_saved_with_the_work_and_a_retry_resumes_after_it(app, db: AsyncSession) -> None:
    async def chunked(context: JobContext) -> dict[str, int]:
        start = int(context.checkpoint.get("next", 0))
        for n in range(start, 10):
            async with context.transaction() as session:
                session.add(OutboxMessage(to_address=f"{n}@example.com", subject=str(n), body=""))
                await context.step(session, checkpoint={"next": n + 1}, done=n + 1, total=10)
            if n == 4 and context.attempt == 1:
                raise RuntimeError("途中で失敗")
        return {"done": 10}

    registry.register(JobKind("test.chunked", chunked))
    await queue.enqueue(db, JobKind("test.chunked", chunked))
    await db.commit()
    await worker(app).run_until_idle()
    (job,) = await jobs(db)
    assert job.state == JobState.FAILED and job.progress_done == 5 and job.percent == 50
    await db.execute(update(Job).values(run_at=datetime.now(UTC)))
    await db.commit()
    await worker(app).run_until_idle()
    subjects = list(await db.scalars(select(OutboxMessage.subject).order_by(OutboxMessage.id)))
    assert subjects == [str(n) for n in range(10)]  # nothing done twice, nothing skipped
    assert (await jobs(db))[0].state == JobState.SUCCEEDED


PAUSE = JobKind("test.pause", sleep_long, timeout_seconds=30)
registry.register(PAUSE)


async def test_a_worker_never_takes_again_a_job_it_is_still_running(app, db: AsyncSession) -> None:
    await queue.enqueue(db, PAUSE, {"seconds": 0.8})
    await db.commit()
    running = worker(app, concurrency=2, poll_seconds=0.05, lease_seconds=30)
    task = asyncio.create_task(running.run())
    for _ in range(100):
        await asyncio.sleep(0.02)
        if running._running:
            break
    # its lease runs out while it works (a renewal stuck behind SQLite's write lock): it must not start it twice
    await db.execute(update(Job).values(lease_expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    await db.commit()
    await asyncio.sleep(0.3)
    assert (await jobs(db))[0].attempts == 1 and len(running._running) == 1
    await asyncio.sleep(0.8)
    running.stop()
    await asyncio.wait_for(task, 5)
    (job,) = await jobs(db)
    assert job.state == JobState.SUCCEEDED and job.attempts == 1


async def test_on_sqlite_a_job_pauses_after_each_chunk_so_waiting_requests_get_the_write_lock(
    app, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job committing chunk after chunk would win SQLite's one write lock against every request waiting for it
    (they poll with sleeps of up to 100 ms): after each chunk it pauses for longer than that."""
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(seconds: float) -> None:
        pauses.append(seconds)
        await real_sleep(0)

    settings = app.state.settings.model_copy(update={"job_sqlite_pause_ms": 150})
    claim = queue.Claim(1, "test.record", {}, None, 1, 3, 60, "w", 0)
    context = JobContext(claim, app.state.sessionmaker, settings)
    monkeypatch.setattr("app.jobs.context.asyncio.sleep", recorded_sleep)
    for _chunk in range(3):
        async with context.transaction() as session:
            await session.execute(select(func.count()).select_from(Job))
    expected = [0.15] * 3 if settings.is_sqlite else []
    assert pauses == expected
