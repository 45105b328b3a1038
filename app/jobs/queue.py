"""The job table's operations: enqueue inside the caller's transaction, claim with a lease, and end an attempt.

Claiming is one UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING: on PostgreSQL the inner SELECT takes the rows
with FOR UPDATE SKIP LOCKED, so racing workers never wait for or take each other's jobs; on SQLite the statement
runs in a short write transaction, and SQLite's single writer serialises claims. Every claim is a lease: a job
whose worker died is `running` with an expired lease and is claimed again. Every later write of an attempt is
conditional on (worker, attempts) still being the claimer's, so a worker that lost its lease changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import upsert_insert, utcnow
from app.jobs.models import WAITING_STATES, Job, JobState
from app.jobs.registry import JobKind

BACKOFF_BASE_SECONDS = 5
BACKOFF_CAP_SECONDS = 3600
ERROR_LIMIT = 4000


async def enqueue(
    session: AsyncSession,
    kind: JobKind,
    payload: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    run_at: datetime | None = None,
    subject: str = "",
    created_by_id: int | None = None,
    total: int | None = None,
    priority: int = 0,
) -> int | None:
    """Add a job to the caller's transaction; returns its id, or None when a job with this key already exists."""
    values: dict[str, Any] = {
        "kind": kind.name,
        "queue": kind.queue,
        "payload": payload or {},
        "state": JobState.QUEUED,
        "idempotency_key": key,
        "priority": priority,
        "attempts": 0,
        "max_attempts": kind.max_attempts,
        "timeout_seconds": kind.timeout_seconds,
        "run_at": run_at or utcnow(),
        "progress_done": 0,
        "progress_total": total,
        "subject": subject[:300] or kind.label,
        "created_by_id": created_by_id,
        "created_at": utcnow(),
    }
    insert = upsert_insert(session)
    statement = insert(Job).values(**values).returning(Job.id)
    if key is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["idempotency_key"])
    return (await session.execute(statement)).scalar_one_or_none()


@dataclass(frozen=True)
class Claim:
    """What a worker holds while it runs one attempt of a job."""

    job_id: int
    kind: str
    payload: dict[str, Any]
    checkpoint: dict[str, Any] | None
    attempts: int
    max_attempts: int
    timeout_seconds: int
    worker: str
    progress_done: int

    def owned(self) -> Any:
        """The condition that the job is still this attempt's (the lease was not lost to another worker)."""
        return and_(
            Job.id == self.job_id,
            Job.worker == self.worker,
            Job.attempts == self.attempts,
            Job.state == JobState.RUNNING,
        )


def _claimable(queues: list[str] | None, now: datetime) -> Any:
    waiting = and_(Job.state.in_(WAITING_STATES), Job.run_at <= now)
    abandoned = and_(Job.state == JobState.RUNNING, Job.lease_expires_at < now)
    condition = or_(waiting, abandoned)
    return and_(condition, Job.queue.in_(queues)) if queues else condition


async def claim(
    session: AsyncSession,
    *,
    worker: str,
    limit: int,
    lease_seconds: float,
    queues: list[str] | None = None,
    exclude: list[int] | None = None,
) -> list[Claim]:
    """Take up to `limit` due jobs for `worker`, none of `exclude` (commit the session to make the claim count)."""
    now = utcnow()
    candidates = select(Job.id).where(_claimable(queues, now))
    if exclude:
        candidates = candidates.where(Job.id.not_in(exclude))
    candidates = candidates.order_by(Job.priority, Job.run_at, Job.id).limit(limit)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(Job)
        .where(Job.id.in_(candidates.scalar_subquery()))
        .values(
            state=JobState.RUNNING,
            worker=worker,
            attempts=Job.attempts + 1,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            started_at=func.coalesce(Job.started_at, now),
        )
        .returning(
            Job.id,
            Job.kind,
            Job.payload,
            Job.checkpoint,
            Job.attempts,
            Job.max_attempts,
            Job.timeout_seconds,
            Job.progress_done,
        )
        .execution_options(synchronize_session=False)
    )
    rows = (await session.execute(statement)).all()
    claims = [
        Claim(
            row.id,
            row.kind,
            row.payload or {},
            row.checkpoint,
            row.attempts,
            row.max_attempts,
            row.timeout_seconds,
            worker,
            row.progress_done,
        )
        for row in rows
    ]
    return sorted(claims, key=lambda item: item.job_id)


async def extend_lease(session: AsyncSession, claim: Claim, *, lease_seconds: float) -> bool:
    result = await session.execute(
        update(Job)
        .where(claim.owned())
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def save_progress(
    session: AsyncSession,
    claim: Claim,
    *,
    checkpoint: dict[str, Any] | None = None,
    done: int | None = None,
    total: int | None = None,
) -> bool:
    """Record where the job has got to, in the caller's transaction; False when the lease was lost."""
    values: dict[str, Any] = {}
    if checkpoint is not None:
        values["checkpoint"] = checkpoint
    if done is not None:
        values["progress_done"] = done
    if total is not None:
        values["progress_total"] = total
    if not values:
        return True
    result = await session.execute(
        update(Job).where(claim.owned()).values(**values).execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def succeed(session: AsyncSession, claim: Claim, *, result: dict[str, Any] | None) -> bool:
    outcome = await session.execute(
        update(Job)
        .where(claim.owned())
        .values(
            state=JobState.SUCCEEDED,
            finished_at=utcnow(),
            lease_expires_at=None,
            result=result,
            progress_done=func.coalesce(Job.progress_total, Job.progress_done),
        )
        .execution_options(synchronize_session=False)
    )
    return bool(outcome.rowcount)


def backoff_seconds(attempts: int, *, jitter: float | None = None) -> float:
    """Exponential backoff with full jitter: 5 s, 10 s, 20 s … capped at an hour, each scaled by 0.5–1.5."""
    base = min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_CAP_SECONDS)
    return base * (0.5 + (random.random() if jitter is None else jitter))


async def fail(
    session: AsyncSession, claim: Claim, *, error: str, permanent: bool = False, reason: str | None = None
) -> JobState | None:
    """End a failed attempt: try again after a backoff, or dead when attempts are used up (or retrying is
    pointless; then `reason` says why, for the person who started the job). Returns the new state, or None when
    the lease had been lost."""
    dead = permanent or claim.attempts >= claim.max_attempts
    state = JobState.DEAD if dead else JobState.FAILED
    values: dict[str, Any] = {"state": state, "last_error": error[:ERROR_LIMIT], "lease_expires_at": None}
    if reason:
        values["result"] = {"reason": reason[:ERROR_LIMIT]}
    if dead:
        values["finished_at"] = utcnow()
    else:
        values["run_at"] = utcnow() + timedelta(seconds=backoff_seconds(claim.attempts))
    outcome = await session.execute(
        update(Job).where(claim.owned()).values(**values).execution_options(synchronize_session=False)
    )
    return state if outcome.rowcount else None


async def release(session: AsyncSession, claim: Claim) -> bool:
    """Give the job back unfinished (the worker is shutting down): the attempt does not count."""
    outcome = await session.execute(
        update(Job)
        .where(claim.owned())
        .values(state=JobState.QUEUED, attempts=Job.attempts - 1, lease_expires_at=None, worker=None, run_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(outcome.rowcount)


async def bury_abandoned(session: AsyncSession, *, now: datetime) -> int:
    """Jobs whose last allowed attempt's worker died (lease expired, attempts used up) are dead, not retried."""
    outcome = await session.execute(
        update(Job)
        .where(
            Job.state == JobState.RUNNING,
            Job.lease_expires_at < now,
            Job.attempts >= Job.max_attempts,
        )
        .values(
            state=JobState.DEAD,
            finished_at=now,
            lease_expires_at=None,
            last_error=func.coalesce(Job.last_error, "") + "\n(作業中のワーカーが応答しなくなりました)",
        )
        .execution_options(synchronize_session=False)
    )
    return int(outcome.rowcount or 0)


async def retry_now(session: AsyncSession, *, job_id: int) -> bool:
    """A person's retry of a failed or dead job: it runs again soon, with its attempts counted afresh."""
    outcome = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_((JobState.FAILED, JobState.DEAD)))
        .values(
            state=JobState.QUEUED, attempts=0, run_at=utcnow(), finished_at=None, lease_expires_at=None, result=None
        )
        .execution_options(synchronize_session=False)
    )
    return bool(outcome.rowcount)
