"""Which training cycle a learner is in: read by progress (readings) and by the quiz (attempts), so it lives
beside the models both already use rather than in either service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.progress.models import Enrollment


async def cycle_started_at(session: AsyncSession, *, user_id: int, course_id: int) -> datetime | None:
    """When the learner's current training cycle in the course began (None: the first and only cycle)."""
    return await session.scalar(
        select(Enrollment.cycle_started_at).where(Enrollment.user_id == user_id, Enrollment.course_id == course_id)
    )
