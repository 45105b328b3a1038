"""The roster of one course inside a scope: who is assigned, and where each stands. Every dashboard figure,
table row, export line and API answer is a query built here, so the scope is applied in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from app.auth.models import User
from app.enrolments.models import Enrollment
from app.org.models import Department
from app.org.scope import Scope
from app.progress.models import CourseStatus


class Status(StrEnum):
    COMPLETED = "completed"
    IN_PROGRESS = "in_progress"
    NOT_STARTED = "not_started"
    OVERDUE = "overdue"


STATUS_LABELS = {
    Status.COMPLETED: "修了",
    Status.IN_PROGRESS: "受講中",
    Status.NOT_STARTED: "未着手",
    Status.OVERDUE: "期限超過",
}

SORTS = {
    "name": User.display_name,
    "department": Department.path,
    "progress": func.coalesce(CourseStatus.percent, 0),
    "best_score": func.coalesce(CourseStatus.best_score, -1),
    "attempts": func.coalesce(CourseStatus.attempts, 0),
    "last_activity": CourseStatus.last_activity_at,
    "due": Enrollment.due_at,
}


@dataclass(frozen=True)
class RosterFilter:
    course_id: int
    department_path: str | None = None  # a subtree inside the scope (already checked by the caller)
    status: Status | None = None
    name: str | None = None


def is_overdue(now: datetime) -> ColumnElement[bool]:
    return and_(Enrollment.due_at.is_not(None), Enrollment.due_at < now, CourseStatus.completed_at.is_(None))


def status_expression() -> ColumnElement[str]:
    """The primary status; 期限超過 is shown beside it, because a late learner may be in progress or not started."""
    return case(
        (CourseStatus.completed_at.is_not(None), Status.COMPLETED.value),
        (CourseStatus.started_at.is_not(None), Status.IN_PROGRESS.value),
        else_=Status.NOT_STARTED.value,
    )


def roster_query(scope: Scope, roster_filter: RosterFilter, now: datetime, *columns: object) -> Select:
    """SELECT columns FROM the course's active, in-scope enrollments with their user, department and status.
    Employees without a department are not on any roster (as in the counters of app.dashboard.stats)."""
    statement = (
        select(*columns)
        .select_from(Enrollment)
        .join(User, User.id == Enrollment.user_id)
        .join(Department, Department.id == User.department_id)
        .outerjoin(
            CourseStatus,
            and_(CourseStatus.user_id == Enrollment.user_id, CourseStatus.course_id == Enrollment.course_id),
        )
        .where(
            Enrollment.course_id == roster_filter.course_id,
            User.is_active.is_(True),
            scope.department_filter(Department.path),
        )
    )
    if roster_filter.department_path:
        statement = statement.where(Department.path.startswith(roster_filter.department_path, autoescape=True))
    if roster_filter.name:
        pattern = f"%{roster_filter.name.strip()}%"
        statement = statement.where(
            or_(User.display_name.ilike(pattern), User.email.ilike(pattern), User.employee_number.ilike(pattern))
        )
    match roster_filter.status:
        case Status.COMPLETED:
            statement = statement.where(CourseStatus.completed_at.is_not(None))
        case Status.IN_PROGRESS:
            statement = statement.where(CourseStatus.completed_at.is_(None), CourseStatus.started_at.is_not(None))
        case Status.NOT_STARTED:
            statement = statement.where(CourseStatus.completed_at.is_(None), CourseStatus.started_at.is_(None))
        case Status.OVERDUE:
            statement = statement.where(is_overdue(now))
    return statement


def row_columns(now: datetime) -> tuple[object, ...]:
    return (
        User.id.label("user_id"),
        User.display_name.label("name"),
        User.employee_number.label("employee_number"),
        User.email.label("email"),
        Department.id.label("department_id"),
        Department.name.label("department"),
        status_expression().label("status"),
        is_overdue(now).label("overdue"),
        func.coalesce(CourseStatus.percent, 0).label("percent"),
        CourseStatus.best_score.label("best_score"),
        func.coalesce(CourseStatus.attempts, 0).label("attempts"),
        CourseStatus.last_activity_at.label("last_activity_at"),
        CourseStatus.completed_at.label("completed_at"),
        Enrollment.due_at.label("due_at"),
    )
