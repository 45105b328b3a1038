"""The manager's figures: headline counts, departments, the employee table. All aggregated in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.counters.models import RosterStat
from app.dashboard.roster import SORTS, RosterFilter, roster_query, row_columns
from app.org.models import Department
from app.org.scope import Scope

PAGE_SIZE = 50


def completion_rate(completed: int, assigned: int) -> float:
    """Percent completed, one decimal; 0 when nobody is assigned."""
    return round(100 * completed / assigned, 1) if assigned else 0.0


@dataclass(frozen=True)
class Headline:
    assigned: int
    completed: int
    in_progress: int
    not_started: int
    overdue: int
    average_best_score: float | None

    @property
    def completion_rate(self) -> float:
        return completion_rate(self.completed, self.assigned)

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "completion_rate": self.completion_rate}


@dataclass(frozen=True)
class DepartmentFigures:
    department_id: int
    name: str
    path: str
    assigned: int
    completed: int
    overdue: int

    @property
    def completion_rate(self) -> float:
        return completion_rate(self.completed, self.assigned)


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _counters_in_scope(scope: Scope, roster_filter: RosterFilter) -> list[Any]:
    where = [RosterStat.course_id == roster_filter.course_id, scope.department_filter(Department.path)]
    if roster_filter.department_path:
        where.append(Department.path.startswith(roster_filter.department_path, autoescape=True))
    return where


def _overdue_count(now: datetime) -> Any:
    late = and_(RosterStat.due_at.is_not(None), RosterStat.due_at < now)
    return func.coalesce(func.sum(case((late, RosterStat.assigned - RosterStat.completed), else_=0)), 0)


async def headline(session: AsyncSession, *, scope: Scope, roster_filter: RosterFilter, now: datetime) -> Headline:
    """The headline figures, added up from the roster counters of the departments in view."""
    statement = (
        select(
            func.coalesce(func.sum(RosterStat.assigned), 0),
            func.coalesce(func.sum(RosterStat.completed), 0),
            func.coalesce(func.sum(RosterStat.started), 0),
            _overdue_count(now),
            func.coalesce(func.sum(RosterStat.score_sum), 0.0),
            func.coalesce(func.sum(RosterStat.score_count), 0),
        )
        .join(Department, Department.id == RosterStat.department_id)
        .where(*_counters_in_scope(scope, roster_filter))
    )
    assigned, completed, started, overdue, score_sum, score_count = (await session.execute(statement)).one()
    average = round(float(score_sum) / int(score_count), 1) if score_count else None
    return Headline(
        int(assigned),
        int(completed),
        int(started) - int(completed),
        int(assigned) - int(started),
        int(overdue),
        average,
    )


async def by_department(
    session: AsyncSession, *, scope: Scope, roster_filter: RosterFilter, now: datetime
) -> list[DepartmentFigures]:
    """Per department (each counting only its own members), in tree order, from the roster counters."""
    statement = (
        select(
            Department.id,
            Department.name,
            Department.path,
            func.sum(RosterStat.assigned),
            func.sum(RosterStat.completed),
            _overdue_count(now),
        )
        .join(Department, Department.id == RosterStat.department_id)
        .where(*_counters_in_scope(scope, roster_filter))
        .group_by(Department.id, Department.name, Department.path)
        .order_by(Department.path)
    )
    rows = await session.execute(statement)
    return [DepartmentFigures(int(i), n, p, int(a), int(c), int(o)) for i, n, p, a, c, o in rows if a]


def owner_of(path: str | None, groups_by_path: dict[str, Any]) -> Any:
    """The group whose subtree holds `path`: the longest group path that is a prefix of it (walks the ids)."""
    if not path:
        return None
    parts = path.strip("/").split("/")
    for length in range(len(parts), 0, -1):
        group = groups_by_path.get("/" + "/".join(parts[:length]) + "/")
        if group is not None:
            return group
    return None


def roll_up(figures: list[DepartmentFigures], groups: list[Department]) -> list[DepartmentFigures]:
    """Add each department's figures to the group (a department of the chart) whose subtree contains it."""
    by_path = {group.path: group for group in groups}
    totals = {group.id: [0, 0, 0] for group in groups}
    for item in figures:
        owner = owner_of(item.path, by_path)
        if owner is not None:
            for index, value in enumerate((item.assigned, item.completed, item.overdue)):
                totals[owner.id][index] += value
    return [DepartmentFigures(g.id, g.name, g.path, *totals[g.id]) for g in groups if totals[g.id][0]]


def own_members_only(groups: list[DepartmentFigures]) -> set[int]:
    """The groups that count a department's own members only: those with another group inside their subtree
    (`roll_up` gives each subtree below to its own group). Shown as 「(直属)」, so that a parent's 0 % is not
    read as its whole subtree's."""
    ancestors = set()
    for group in groups:  # "/1/2/3/" has the ancestors "/1/" and "/1/2/"
        ids = group.path.strip("/").split("/")
        ancestors.update("/" + "/".join(ids[:length]) + "/" for length in range(1, len(ids)))
    return {group.department_id for group in groups if group.path in ancestors}


def chart_groups(departments: list[Department], root_path: str | None) -> list[Department]:
    """The departments a chart compares: the children of the department being viewed (and itself, for its
    direct members), or the top of the scope when none is chosen."""
    if root_path:
        depth = root_path.count("/")
        return [
            d
            for d in departments
            if d.path == root_path or (d.path.startswith(root_path) and d.path.count("/") == depth + 1)
        ]
    in_scope = {d.id for d in departments}
    tops = [d for d in departments if d.parent_id not in in_scope]
    if len(tops) == 1:
        return chart_groups(departments, tops[0].path)
    return tops


async def employee_page(
    session: AsyncSession,
    *,
    scope: Scope,
    roster_filter: RosterFilter,
    now: datetime,
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    per_page: int = PAGE_SIZE,
) -> Page:
    if roster_filter.status is None and not roster_filter.name:
        total = (await headline(session, scope=scope, roster_filter=roster_filter, now=now)).assigned
    else:
        total = await session.scalar(roster_query(scope, roster_filter, now, func.count()))
    order = SORTS.get(sort, SORTS["name"])
    ordering = [order.desc() if descending else order.asc(), User.id]
    if order is not SORTS["name"]:
        ordering.insert(1, User.display_name)
    page = max(1, page)
    statement = (
        roster_query(scope, roster_filter, now, *row_columns(now))
        .order_by(*ordering)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = list((await session.execute(statement)).mappings())
    return Page(rows=rows, total=int(total or 0), page=page, per_page=per_page)


async def stream_rows(session: AsyncSession, *, scope: Scope, roster_filter: RosterFilter, now: datetime):
    """Every row of the table, fetched in batches from a server-side cursor (for the CSV export)."""
    statement = roster_query(scope, roster_filter, now, *row_columns(now)).order_by(Department.path, User.id)
    result = await session.stream(statement.execution_options(yield_per=1000))
    async for row in result.mappings():
        yield row
