"""The dashboard's headline counted directly from the roster: slow, and the reference the counters must match."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, case, cast, func
from sqlalchemy.ext.asyncio import AsyncSession

from app.dashboard.roster import RosterFilter, is_overdue, roster_query
from app.dashboard.service import Headline
from app.org.scope import Scope
from app.progress.models import CourseStatus


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(cast(case((condition, 1), else_=0), Integer)), 0)


async def headline_from_roster(
    session: AsyncSession, *, scope: Scope, roster_filter: RosterFilter, now: datetime
) -> Headline:
    """The same figures counted directly from the roster: slower, and the reference the counters must match."""
    done, started = CourseStatus.completed_at.is_not(None), CourseStatus.started_at.is_not(None)
    statement = roster_query(
        scope,
        roster_filter,
        now,
        func.count(),
        _count_if(done),
        _count_if(~done & started),
        _count_if(~done & ~started),
        _count_if(is_overdue(now)),
        func.avg(CourseStatus.best_score),
    )
    assigned, completed, in_progress, not_started, overdue, average = (await session.execute(statement)).one()
    return Headline(
        int(assigned),
        int(completed),
        int(in_progress),
        int(not_started),
        int(overdue),
        round(float(average), 1) if average is not None else None,
    )
