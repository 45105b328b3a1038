"""Rebuilding the roster and completion counters from the standings themselves, after anything that changes who
is enrolled, their due date, department or active flag, or after a bulk load. (Single events adjust the counters
through app.counters.service instead.)"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.counters.models import CompletionDayStat, RosterStat
from app.counters.service import completion_day
from app.enrolments.models import Enrollment
from app.progress.models import CourseCompletion, CourseStatus


async def recount_roster(session: AsyncSession, *, course_id: int, department_ids: list[int] | None = None) -> None:
    """Rebuild the roster counters of a course (or of some departments) from enrollments and statuses."""
    stale = delete(RosterStat).where(RosterStat.course_id == course_id)
    if department_ids is not None:
        stale = stale.where(RosterStat.department_id.in_(department_ids))
    await session.execute(stale)
    counts = (
        select(
            Enrollment.course_id,
            User.department_id,
            Enrollment.due_at,
            func.count(),
            func.count(CourseStatus.started_at),
            func.count(CourseStatus.completed_at),
            func.coalesce(func.sum(CourseStatus.best_score), 0.0),
            func.count(CourseStatus.best_score),
        )
        .join(User, User.id == Enrollment.user_id)
        .outerjoin(CourseStatus, (CourseStatus.user_id == Enrollment.user_id) & (CourseStatus.course_id == course_id))
        .where(Enrollment.course_id == course_id, User.is_active.is_(True), User.department_id.is_not(None))
        .group_by(Enrollment.course_id, User.department_id, Enrollment.due_at)
    )
    if department_ids is not None:
        counts = counts.where(User.department_id.in_(department_ids))
    columns = ["course_id", "department_id", "due_at", "assigned", "started", "completed", "score_sum", "score_count"]
    await session.execute(insert(RosterStat).from_select(columns, counts))


async def recount_completion_days(session: AsyncSession, *, course_id: int) -> None:
    """Rebuild the daily completion counters of a course from the completions themselves."""
    rows = await session.execute(
        select(User.department_id, CourseCompletion.completed_at)
        .join(User, User.id == CourseCompletion.user_id)
        .where(CourseCompletion.course_id == course_id, User.department_id.is_not(None))
    )
    days: Counter[tuple[int, Any]] = Counter()
    for department_id, completed_at in rows:
        days[department_id, completion_day(completed_at)] += 1
    await session.execute(delete(CompletionDayStat).where(CompletionDayStat.course_id == course_id))
    session.add_all(
        CompletionDayStat(course_id=course_id, department_id=d, day=day, count=n) for (d, day), n in days.items()
    )
    await session.flush()
