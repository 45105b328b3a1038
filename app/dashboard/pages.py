"""Assembling the 受講状況 page: one call gathers the figures, tables and charts for a manager's question."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.content import service as content_service
from app.content.models import Course, CourseVersion
from app.core.errors import NotFound
from app.core.templating import TIMEZONE
from app.dashboard import analysis, charts, service, snapshots
from app.dashboard.roster import STATUS_LABELS, RosterFilter
from app.dashboard.schemas import DashboardQuery
from app.org import service as org_service
from app.org.models import Department
from app.org.scope import Scope
from app.quiz import service as quiz_service


@dataclass
class Dashboard:
    courses: list[tuple[Course, CourseVersion]]
    course: Course
    version: CourseVersion
    query: DashboardQuery
    departments: list[Department]
    department: Department | None
    roster_filter: RosterFilter
    page: service.Page
    figures: snapshots.Figures | None = None  # the snapshot shown above the table; None for the table alone
    figures_key: str = ""  # that snapshot's key: with its computed_at, names exactly what the figures show
    figures_fresh: bool = True
    charts: dict[str, charts.Chart] = field(default_factory=dict)  # drawn from the figures (add_charts)
    status_labels: dict[Any, str] = field(default_factory=lambda: dict(STATUS_LABELS))

    # What the page shows of the figures, read from the snapshot rather than copied beside it.
    @property
    def headline(self) -> service.Headline | None:
        return self.figures.headline if self.figures else None

    @property
    def groups(self) -> list[service.DepartmentFigures]:
        return self.figures.groups if self.figures else []

    @property
    def own_members_only(self) -> set[int]:
        return service.own_members_only(self.groups)

    @property
    def items(self) -> list[analysis.ItemRow]:
        return self.figures.items if self.figures else []

    @property
    def misconceptions(self) -> list[analysis.MisconceptionRow]:
        return self.figures.misconceptions if self.figures else []

    @property
    def due_at(self) -> datetime | None:
        return self.figures.due_at if self.figures else None

    @property
    def figures_at(self) -> datetime | None:
        """When the figures above the table were added up."""
        return self.figures.computed_at if self.figures else None


async def choose_course(session: AsyncSession, *, slug: str | None) -> tuple[list, Course, CourseVersion]:
    courses = await content_service.list_courses(session)
    if not courses:
        raise NotFound("コースがまだ登録されていません。")
    if slug is None:
        return courses, courses[0][0], courses[0][1]
    chosen = next(((c, v) for c, v in courses if c.slug == slug), None)
    if chosen is None:
        raise NotFound("コースが見つかりません。")
    return courses, chosen[0], chosen[1]


async def roster_filter_for(
    session: AsyncSession, *, scope: Scope, query: DashboardQuery, course: Course
) -> tuple[RosterFilter, Department | None]:
    department = None
    if query.department is not None:
        department = await org_service.get_department_in_scope(session, department_id=query.department, scope=scope)
    roster_filter = RosterFilter(
        course_id=course.id,
        department_path=department.path if department else None,
        status=query.status,
        name=query.q or None,
    )
    return roster_filter, department


async def question_definitions(session: AsyncSession, *, version_id: int) -> dict[str, dict[str, Any]]:
    quizzes = await quiz_service.quizzes_of_version(session, version_id=version_id)
    return {record["def"]["id"]: record["def"] for q in quizzes.values() for record in q.questions}


async def build(session: AsyncSession, *, scope: Scope, query: DashboardQuery, now: datetime) -> Dashboard:
    courses, course, version = await choose_course(session, slug=query.course)
    roster_filter, department = await roster_filter_for(session, scope=scope, query=query, course=course)
    departments = await org_service.departments_in_scope(session, scope=scope)
    everyone = RosterFilter(course_id=course.id, department_path=roster_filter.department_path)
    figures = await snapshots.figures_for(
        session,
        scope=scope,
        version=version,
        everyone=everyone,
        departments=departments,
        department=department,
        now=now,
    )
    page = await service.employee_page(
        session,
        scope=scope,
        roster_filter=roster_filter,
        now=now,
        sort=query.sort,
        descending=query.dir == "desc",
        page=query.page,
    )
    key = snapshots.snapshot_key(version_id=version.id, scope=scope, department_path=everyone.department_path)
    return Dashboard(
        courses,
        course,
        version,
        query,
        departments,
        department,
        roster_filter,
        page,
        figures=figures,
        figures_key=key,
        figures_fresh=figures.is_fresh(now),
    )


async def build_table(session: AsyncSession, *, scope: Scope, query: DashboardQuery, now: datetime) -> Dashboard:
    """Only the employee table: what an HTMX sort, filter or page change needs, nothing else."""
    courses, course, version = await choose_course(session, slug=query.course)
    roster_filter, department = await roster_filter_for(session, scope=scope, query=query, course=course)
    page = await service.employee_page(
        session,
        scope=scope,
        roster_filter=roster_filter,
        now=now,
        sort=query.sort,
        descending=query.dir == "desc",
        page=query.page,
    )
    return Dashboard(courses, course, version, query, [], department, roster_filter, page)


def add_charts(dashboard: Dashboard, *, now: datetime) -> None:
    """The charts drawn from the figures (pure: the adding up is in the snapshot). Only needed when the figures'
    part of the page is rendered, not when it comes from the fragment cache."""
    figures = dashboard.figures
    if figures is None:
        return
    today = now.astimezone(TIMEZONE).date()
    headline = figures.headline
    own_only = dashboard.own_members_only
    dashboard.charts["departments"] = charts.bar_chart(
        "chart-departments",
        "部署別の修了率",
        [
            charts.BarItem(
                f"{g.name}(直属)" if g.department_id in own_only else g.name,
                g.completion_rate,
                f"修了 {g.completed}/{g.assigned}人・期限超過 {g.overdue}人",
            )
            for g in figures.groups
        ],
    )
    series = analysis.cumulative_series(figures.per_day, today=today)
    marker_index, marker_label = None, None
    if figures.due_at is not None:
        due_day = figures.due_at.astimezone(TIMEZONE).date()
        days = [day for day, _ in series]
        if due_day in days:
            marker_index, marker_label = days.index(due_day), f"期限 {due_day:%m/%d}"
    dashboard.charts["timeline"] = charts.line_chart(
        "chart-timeline",
        "修了者数の推移(直近30日)",
        [charts.LinePoint(f"{day.month}/{day.day}", value) for day, value in series],
        target=headline.assigned,
        marker_index=marker_index,
        marker_label=marker_label,
    )
    dashboard.charts["funnel"] = charts.funnel_chart(
        "chart-funnel",
        "レッスンごとの進み具合",
        [charts.FunnelStep(r.title, r.opened, r.read, r.passed) for r in figures.funnel],
        headline.assigned,
    )
