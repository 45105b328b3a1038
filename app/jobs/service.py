"""What people read about jobs: the ジョブ page's lists and counts, one job's progress, the health summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.models import WAITING_STATES, Job, JobFile, JobState

PAGE_SIZE = 100
KEEP_FINISHED_DAYS = 30


@dataclass(frozen=True)
class QueueHealth:
    counts: dict[str, int]
    oldest_waiting_seconds: int | None  # how long the longest-waiting due job has waited

    def as_dict(self) -> dict[str, object]:
        return {"counts": self.counts, "oldest_waiting_seconds": self.oldest_waiting_seconds}


async def counts_by_state(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Job.state, func.count()).group_by(Job.state))
    counts = {state.value: 0 for state in JobState}
    counts.update({state: count for state, count in rows.all()})
    return counts


async def health(session: AsyncSession, *, now: datetime) -> QueueHealth:
    oldest = await session.scalar(select(func.min(Job.run_at)).where(Job.state.in_(WAITING_STATES), Job.run_at <= now))
    waited = int((now - oldest).total_seconds()) if oldest is not None else None
    return QueueHealth(await counts_by_state(session), waited)


async def list_jobs(session: AsyncSession, *, state: JobState | None, page: int = 1) -> list[Job]:
    statement = select(Job).order_by(Job.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    if state is not None:
        statement = statement.where(Job.state == state)
    return list(await session.scalars(statement))


async def job_for(session: AsyncSession, *, job_id: int, user_id: int, is_admin: bool) -> Job | None:
    """A job as the person who started it (or an admin) may see it; None for anyone else."""
    job = await session.get(Job, job_id)
    if job is None or not (is_admin or job.created_by_id == user_id):
        return None
    return job


async def job_by_key(session: AsyncSession, *, key: str) -> Job | None:
    return await session.scalar(select(Job).where(Job.idempotency_key == key))


async def has_file(session: AsyncSession, *, job_id: int) -> bool:
    """Whether the job produced a file, without loading its bytes (the panel asks on every render)."""
    return await session.scalar(select(JobFile.id).where(JobFile.job_id == job_id)) is not None


async def file_of(session: AsyncSession, *, job_id: int) -> JobFile | None:
    return await session.scalar(select(JobFile).where(JobFile.job_id == job_id))


async def prune_finished(session: AsyncSession, *, now: datetime) -> int:
    """Succeeded jobs (and their files) are kept for a month, then deleted; dead ones stay until retried."""
    outcome = await session.execute(
        delete(Job).where(Job.state == JobState.SUCCEEDED, Job.finished_at < now - timedelta(days=KEEP_FINISHED_DAYS))
    )
    return int(outcome.rowcount or 0)
