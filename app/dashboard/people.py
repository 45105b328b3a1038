"""One employee as their manager sees them: found only inside the manager's scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core.errors import NotFound
from app.enrolments.models import Enrollment
from app.org.models import Department
from app.org.scope import Scope
from app.progress.models import CourseStatus, LessonProgress
from app.quiz.models import Attempt


@dataclass
class Employee:
    user: User
    department: Department | None


async def get_employee(session: AsyncSession, *, user_id: int, scope: Scope) -> Employee:
    """The employee if the scope covers their department; otherwise NotFound, exactly as for a missing id."""
    row = (
        await session.execute(
            select(User, Department)
            .join(Department, Department.id == User.department_id, isouter=scope.everything)
            .where(User.id == user_id, scope.department_filter(Department.path))
        )
    ).first()
    if row is None:
        raise NotFound("従業員が見つかりません。")
    return Employee(user=row[0], department=row[1])


async def standing(
    session: AsyncSession, *, user_id: int, course_id: int
) -> tuple[Enrollment | None, CourseStatus | None]:
    enrollment = await session.scalar(
        select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.course_id == course_id)
    )
    status = await session.scalar(
        select(CourseStatus).where(CourseStatus.user_id == user_id, CourseStatus.course_id == course_id)
    )
    return enrollment, status


async def get_attempt_in_scope(session: AsyncSession, *, attempt_id: int, scope: Scope) -> tuple[Attempt, Employee]:
    attempt = await session.get(Attempt, attempt_id)
    if attempt is None:
        raise NotFound("受験記録が見つかりません。")
    employee = await get_employee(session, user_id=attempt.user_id, scope=scope)
    return attempt, employee


async def lesson_progress(session: AsyncSession, *, user_id: int, course_id: int) -> dict[str, LessonProgress]:
    rows = await session.scalars(
        select(LessonProgress).where(LessonProgress.user_id == user_id, LessonProgress.course_id == course_id)
    )
    return {row.lesson_slug: row for row in rows}
