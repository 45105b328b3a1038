"""The job system's own housekeeping, as a scheduled job: finished jobs are deleted after a month."""

from __future__ import annotations

from datetime import time
from typing import Any

from app.core.db import utcnow
from app.jobs import service
from app.jobs.context import JobContext
from app.jobs.registry import JobKind, Schedule


async def prune(context: JobContext) -> dict[str, Any]:
    async with context.transaction() as session:
        return {"deleted": await service.prune_finished(session, now=utcnow())}


PRUNE = JobKind("jobs.prune", prune, max_attempts=3, label="終わったジョブの整理")
PRUNE_SCHEDULE = Schedule("prune-finished-jobs", PRUNE, daily_at=time(3, 30))
