"""Recurring training: a recurring assignment opens its next cycle `recur_months` after the current one opened.
Everyone it covers who had completed the course trains again (their earlier readings, attempts and certificates
stay on record); everyone's due date moves to the new cycle's. Safe to run from every worker at once: the
unique `previous_id` lets exactly one of them open a given cycle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.assignments import service as assignments_service
from app.assignments.chains import cycle_dates, latest_cycle_only
from app.assignments.models import Assignment
from app.auth.models import User
from app.org.models import Department
from app.progress import standing


async def _covered_user_ids(session: AsyncSession, assignment: Assignment) -> list[int]:
    if assignment.user_id is not None:
        return [assignment.user_id]
    target = aliased(Department)
    rows = await session.scalars(
        select(User.id)
        .join(Department, Department.id == User.department_id)
        .join(target, target.id == assignment.department_id)
        .where(Department.path.startswith(target.path), User.is_active.is_(True))
    )
    return list(rows)


async def _first_of_chain(session: AsyncSession, assignment: Assignment) -> tuple[Assignment, int]:
    """The chain's first cycle, and how many cycles came after it up to `assignment`."""
    first, steps = assignment, 0
    while first.previous_id is not None:
        previous = await session.get(Assignment, first.previous_id)
        if previous is None:
            break
        first, steps = previous, steps + 1
    return first, steps


async def _open_next(
    session: AsyncSession, current: Assignment, opening: datetime, due: datetime | None
) -> Assignment | None:
    successor = Assignment(
        course_id=current.course_id,
        department_id=current.department_id,
        user_id=current.user_id,
        due_at=due,
        created_by_id=current.created_by_id,
        opens_at=opening,
        recur_months=current.recur_months,
        previous_id=current.id,
    )
    try:
        async with session.begin_nested():
            session.add(successor)
    except IntegrityError:
        return None  # another worker opened this cycle first
    return successor


async def open_due_cycles(session: AsyncSession, *, now: datetime) -> list[Assignment]:
    """Open every recurring cycle whose time has come (catching up several if the job did not run for long)."""
    candidates = list(
        await session.scalars(
            select(Assignment)
            .where(Assignment.recur_months.is_not(None), and_(latest_cycle_only()))
            .order_by(Assignment.id)
        )
    )
    opened: list[Assignment] = []
    for current in candidates:
        first, cycle = await _first_of_chain(session, current)
        opening, due = cycle_dates(first, cycle + 1)
        while opening <= now:
            successor = await _open_next(session, current, opening, due)
            if successor is None:
                break
            opened.append(successor)
            await standing.restart_training(
                session, course_id=current.course_id, user_ids=await _covered_user_ids(session, current), since=opening
            )
            await assignments_service.sync_roster(session, course_id=current.course_id)
            cycle += 1
            current, (opening, due) = successor, cycle_dates(first, cycle + 1)
    return opened
