"""Recurring training: a recurring assignment opens its next cycle `recur_months` after the current one opened.
Everyone it covers who had completed the course trains again (their earlier readings, attempts and certificates
stay on record); everyone's due date moves to the new cycle's. Safe to run from every worker at once: the
unique `previous_id` lets exactly one of them open a given cycle."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, delete, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.assignments.models import Assignment
from app.auth.models import User
from app.core.clock import add_months
from app.enrolments.models import Enrollment
from app.org.models import Department
from app.progress.models import CourseCompletion, CourseStatus


def cycle_dates(first: Assignment, cycle: int) -> tuple[datetime, datetime | None]:
    """(opens, due) of cycle number `cycle` (0 = the first) of a recurring chain. Counted from the first cycle,
    not from the previous one, so a due date on the 31st does not drift to the 30th after a short month."""
    months = (first.recur_months or 0) * cycle
    return add_months(first.opens_at, months), add_months(first.due_at, months) if first.due_at else None


def latest_cycle_only() -> object:
    """A WHERE clause keeping only the newest cycle of each recurring chain (and every one-off assignment)."""
    successor = aliased(Assignment)
    return ~exists().where(successor.previous_id == Assignment.id)


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
        course_id=current.course_id, department_id=current.department_id, user_id=current.user_id,
        due_at=due, created_by_id=current.created_by_id, opens_at=opening, recur_months=current.recur_months,
        previous_id=current.id,
    )  # fmt: skip
    try:
        async with session.begin_nested():
            session.add(successor)
    except IntegrityError:
        return None  # another worker opened this cycle first
    return successor


async def restart_training(session: AsyncSession, *, course_id: int, user_ids: list[int], since: datetime) -> list[int]:
    """Learners of these who completed the course before `since` train again from `since`; returns who."""
    if not user_ids:
        return []
    completed = list(await session.scalars(
        select(CourseCompletion.user_id).where(
            CourseCompletion.course_id == course_id, CourseCompletion.user_id.in_(user_ids),
            CourseCompletion.completed_at < since,
        )
    ))  # fmt: skip
    if not completed:
        return []
    # The completion is the current cycle's; the certificate issued for it keeps the record of the earlier one.
    await session.execute(
        delete(CourseCompletion).where(CourseCompletion.course_id == course_id, CourseCompletion.user_id.in_(completed))
    )
    await session.execute(
        update(Enrollment)
        .where(Enrollment.course_id == course_id, Enrollment.user_id.in_(completed))
        .values(cycle_started_at=since)
    )
    # Nothing counts yet in the new cycle, so every learner's standing is exactly zero: one statement for all of
    # them instead of recomputing each (the dashboard's counters are rebuilt from these rows afterwards).
    await session.execute(
        update(CourseStatus)
        .where(CourseStatus.course_id == course_id, CourseStatus.user_id.in_(completed))
        .values(percent=0, lessons_read=0, tests_passed=0, best_score=None, attempts=0, started_at=None,
                last_activity_at=None, completed_at=None)
    )  # fmt: skip
    return completed


async def open_due_cycles(session: AsyncSession, *, now: datetime) -> list[Assignment]:
    """Open every recurring cycle whose time has come (catching up several if the job did not run for long)."""
    from app.assignments import service as assignments_service

    candidates = list(await session.scalars(
        select(Assignment).where(Assignment.recur_months.is_not(None), and_(latest_cycle_only()))
        .order_by(Assignment.id)
    ))  # fmt: skip
    opened: list[Assignment] = []
    for current in candidates:
        first, cycle = await _first_of_chain(session, current)
        opening, due = cycle_dates(first, cycle + 1)
        while opening <= now:
            successor = await _open_next(session, current, opening, due)
            if successor is None:
                break
            opened.append(successor)
            await restart_training(
                session, course_id=current.course_id, user_ids=await _covered_user_ids(session, current), since=opening
            )
            await assignments_service.sync_roster(session, course_id=current.course_id)
            cycle += 1
            current, (opening, due) = successor, cycle_dates(first, cycle + 1)
    return opened
