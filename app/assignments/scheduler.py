"""Opens recurring training cycles on time, as a scheduled job (app/jobs/schedules.py): every worker enqueues the
current slot, one of them runs it. Opening is safe to run twice (see app.assignments.recurrence)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.assignments.recurrence import open_due_cycles
from app.core import logs
from app.core.db import utcnow
from app.jobs.context import JobContext
from app.jobs.registry import JobKind, Schedule


async def open_cycles(context: JobContext) -> dict[str, Any]:
    async with context.transaction() as session:
        opened = await open_due_cycles(session, now=utcnow())
    if opened:
        logs.get_logger().info("training_cycles_opened", count=len(opened), ids=[a.id for a in opened])
    return {"opened": len(opened)}


OPEN_CYCLES = JobKind("assignments.open_cycles", open_cycles, max_attempts=3, label="繰り返し研修の新しい期間")


def cycle_schedule(minutes: int) -> Schedule:
    return Schedule("training-cycles", OPEN_CYCLES, every=timedelta(minutes=minutes))
