"""Assignments, and the roster they produce: `enrollments` holds, per employee and course, the due date that
applies. A department assignment covers its whole subtree, including people who join it later; a direct
assignment to one employee overrides the department's due date for them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments.chains import latest_cycle_only
from app.assignments.models import Assignment
from app.auth.models import User
from app.content.models import Course
from app.core.db import upsert_insert, utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.enrolments.models import Enrollment
from app.org.models import Department
from app.org.scope import Scope
from app.progress.recount import recount_roster


def _department_roster(course_id: int, user_ids: Sequence[int] | None) -> Select:
    """(user, course, earliest due date) for everyone covered by a department assignment of the course."""
    assigned_department = Department.__table__.alias("assigned_department")
    statement = (
        select(User.id, literal(course_id), func.min(Assignment.due_at), literal(utcnow()))
        .join(Department, Department.id == User.department_id)
        .join(Assignment, and_(Assignment.course_id == course_id, Assignment.department_id.is_not(None)))
        .join(assigned_department, assigned_department.c.id == Assignment.department_id)
        .where(Department.path.startswith(assigned_department.c.path), User.is_active.is_(True))
        .where(latest_cycle_only())
        .group_by(User.id)
    )
    return statement.where(User.id.in_(user_ids)) if user_ids is not None else statement


def _direct_roster(course_id: int, user_ids: Sequence[int] | None) -> Select:
    statement = (
        select(Assignment.user_id, literal(course_id), func.min(Assignment.due_at), literal(utcnow()))
        .where(Assignment.course_id == course_id, Assignment.user_id.is_not(None), latest_cycle_only())
        .group_by(Assignment.user_id)
    )
    return statement.where(Assignment.user_id.in_(user_ids)) if user_ids is not None else statement


async def _upsert_roster(session: AsyncSession, rows: Select) -> None:
    insert = upsert_insert(session)
    columns = ["user_id", "course_id", "due_at", "assigned_at"]
    statement = insert(Enrollment).from_select(columns, rows)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "course_id"], set_={"due_at": statement.excluded.due_at}
    )
    await session.execute(statement)


async def sync_roster(session: AsyncSession, *, course_id: int, user_ids: Sequence[int] | None = None) -> None:
    """Bring enrollments of one course in line with its assignments (for some users, or everyone)."""
    await _upsert_roster(session, _department_roster(course_id, user_ids))
    # Direct assignments run second so that their due date wins over the department's.
    await _upsert_roster(session, _direct_roster(course_id, user_ids))
    departments = None
    if user_ids is not None:
        found = await session.scalars(select(User.department_id).where(User.id.in_(user_ids)).distinct())
        departments = [d for d in found if d is not None]
    await recount_roster(session, course_id=course_id, department_ids=departments)


async def sync_user(session: AsyncSession, *, user_id: int) -> None:
    """Call when an employee is created or moves department: every course assigned to their new place applies."""
    course_ids = await session.scalars(select(Assignment.course_id).distinct())
    for course_id in list(course_ids):
        await sync_roster(session, course_id=course_id, user_ids=[user_id])


async def assign(
    session: AsyncSession,
    *,
    course_id: int,
    scope: Scope,
    created_by: User | None,
    due_at: datetime | None,
    department_id: int | None = None,
    user_id: int | None = None,
    recur_months: int | None = None,
) -> Assignment:
    """Assign a course to a department or an employee inside the assigner's scope."""
    if recur_months is not None and not 1 <= recur_months <= 120:
        raise InvalidInput("繰り返しの間隔は 1〜120 か月で指定してください。")
    if (department_id is None) == (user_id is None):
        raise InvalidInput("部署か受講者のどちらか一方を選んでください。")
    if department_id is not None:
        department = await session.scalar(
            select(Department).where(Department.id == department_id, scope.department_filter(Department.path))
        )
        if department is None:
            raise NotFound("部署が見つかりません。")
    else:
        in_scope = await session.scalar(
            select(User.id)
            .join(Department, Department.id == User.department_id, isouter=scope.everything)
            .where(User.id == user_id, scope.department_filter(Department.path))
        )
        if in_scope is None:
            raise NotFound("受講者が見つかりません。")
    assignment = Assignment(
        course_id=course_id,
        department_id=department_id,
        user_id=user_id,
        due_at=due_at,
        created_by_id=created_by.id if created_by else None,
        opens_at=utcnow(),
        recur_months=recur_months,
    )
    session.add(assignment)
    await session.flush()
    await sync_roster(session, course_id=course_id)
    return assignment


async def list_assignments(session: AsyncSession, *, scope: Scope) -> list[tuple[Assignment, str, str]]:
    """Assignments the user may see: (assignment, course slug, target name), newest first."""
    target_department = Department.__table__.alias("target_department")
    user_department = Department.__table__.alias("user_department")
    rows = await session.execute(
        select(Assignment, Course.slug, func.coalesce(target_department.c.name, User.display_name))
        .join(Course, Course.id == Assignment.course_id)
        .outerjoin(target_department, target_department.c.id == Assignment.department_id)
        .outerjoin(User, User.id == Assignment.user_id)
        .outerjoin(user_department, user_department.c.id == User.department_id)
        .where(
            scope.department_filter(func.coalesce(target_department.c.path, user_department.c.path))
            if not scope.everything
            else literal(True)
        )
        .order_by(Assignment.id.desc())
    )
    return [(a, slug, name) for a, slug, name in rows]


async def department_ids_assigned(session: AsyncSession, *, course_id: int) -> list[int]:
    """Departments the course is assigned to."""
    rows = await session.scalars(
        select(Assignment.department_id).where(Assignment.course_id == course_id, Assignment.department_id.is_not(None))
    )
    return [department_id for department_id in rows if department_id is not None]


async def people_without_assignment_route(session: AsyncSession, *, course_id: int) -> list[int]:
    """Active people no department assignment can reach (they have no department) and not assigned directly."""
    direct = select(Assignment.user_id).where(Assignment.course_id == course_id, Assignment.user_id.is_not(None))
    rows = await session.scalars(
        select(User.id).where(User.is_active.is_(True), User.department_id.is_(None), User.id.not_in(direct))
    )
    return list(rows)


async def stop_recurrence(session: AsyncSession, *, assignment_id: int, scope: Scope) -> Assignment:
    """The current cycle stays as it is; no further cycle will open. Only inside the user's scope."""
    visible = {assignment.id: assignment for assignment, _slug, _name in await list_assignments(session, scope=scope)}
    assignment = visible.get(assignment_id)
    if assignment is None:
        raise NotFound("割り当てが見つかりません。")
    if any(other.previous_id == assignment.id for other in visible.values()):
        raise Conflict("これは以前の研修期間です。繰り返しは最新の期間で止めてください。")
    assignment.recur_months = None
    await session.flush()
    return assignment
