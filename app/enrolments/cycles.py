"""Which training cycle a learner is in. Readings (progress) and attempts (the quiz) count only in the current
cycle of a recurring assignment; the cycle's start is kept on the enrolment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.enrolments.models import Enrollment


async def cycle_started_at(session: AsyncSession, *, user_id: int, course_id: int) -> datetime | None:
    """When the learner's current training cycle in the course began (None: the first and only cycle)."""
    return await session.scalar(
        select(Enrollment.cycle_started_at).where(Enrollment.user_id == user_id, Enrollment.course_id == course_id)
    )


def in_cycle(when: datetime | None, cycle_started_at: datetime | None) -> bool:
    """An activity counts in the learner's current training cycle: every activity when there was only one cycle,
    otherwise only what happened since the cycle began."""
    return when is not None and (cycle_started_at is None or when >= cycle_started_at)
