"""The dashboard's figures as snapshots: headline, departments, completions over time, the lesson funnel, which
questions are missed and which misconceptions are chosen, computed for one course version, one manager's scope
and one department filter, and stored under that key.

Adding those up from the counters of 600 departments takes a whole-company view about 90 ms of one core, and it
ran on the event loop that also serves learners. Now a page reads its snapshot by key (one statement); a snapshot
older than SNAPSHOT_MAX_AGE is still shown, marked with its time, while a job computes the next one (in the
worker, not in the manager's request). Only the first view of a scope computes in the request. The snapshots are
rows, not worker memory, so every worker shows the same figures. The employee table stays live: it is what a
manager acts on, and it reads one page of an index."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.content import service as content_service
from app.content.models import CourseVersion
from app.core.db import insert_or_update, utcnow
from app.dashboard import analysis, service
from app.dashboard.models import DashboardSnapshot
from app.dashboard.roster import RosterFilter
from app.jobs import queue
from app.jobs.context import JobContext
from app.jobs.registry import JobKind
from app.lessons import service as lessons_service
from app.org import service as org_service
from app.org.models import Department
from app.org.scope import Scope
from app.quiz import service as quiz_service

SNAPSHOT_MAX_AGE = timedelta(seconds=60)


@dataclass(frozen=True)
class Figures:
    headline: service.Headline
    groups: list[service.DepartmentFigures]
    per_day: dict[date, int]
    due_at: datetime | None
    funnel: list[analysis.FunnelRow]
    items: list[analysis.ItemRow]
    misconceptions: list[analysis.MisconceptionRow]
    computed_at: datetime

    def is_fresh(self, now: datetime) -> bool:
        return now - self.computed_at < SNAPSHOT_MAX_AGE

    def to_json(self) -> dict[str, Any]:
        return {
            "headline": asdict(self.headline),
            "groups": [asdict(group) for group in self.groups],
            "per_day": [[day.isoformat(), count] for day, count in sorted(self.per_day.items())],
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "funnel": [asdict(row) for row in self.funnel],
            "items": [asdict(row) for row in self.items],
            "misconceptions": [asdict(row) for row in self.misconceptions],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], computed_at: datetime) -> Figures:
        return cls(
            headline=service.Headline(**data["headline"]),
            groups=[service.DepartmentFigures(**group) for group in data["groups"]],
            per_day={date.fromisoformat(day): int(count) for day, count in data["per_day"]},
            due_at=datetime.fromisoformat(data["due_at"]) if data["due_at"] else None,
            funnel=[analysis.FunnelRow(**row) for row in data["funnel"]],
            items=[analysis.ItemRow(**row) for row in data["items"]],
            misconceptions=[analysis.MisconceptionRow(**row) for row in data["misconceptions"]],
            computed_at=computed_at,
        )


def snapshot_key(*, version_id: int, scope: Scope, department_path: str | None) -> str:
    """The same version, scope and department filter always name the same snapshot (a digest: paths are long)."""
    parts = [f"v{version_id}", "all" if scope.everything else "|".join(sorted(scope.paths)), department_path or ""]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


async def compute(
    session: AsyncSession,
    *,
    scope: Scope,
    version: CourseVersion,
    everyone: RosterFilter,
    departments: list[Department],
    department: Department | None,
    now: datetime,
) -> Figures:
    """Add up the figures from the counters (the heavy part, kept out of the pages by the snapshots)."""
    headline = await service.headline(session, scope=scope, roster_filter=everyone, now=now)
    groups = service.roll_up(
        await service.by_department(session, scope=scope, roster_filter=everyone, now=now),
        service.chart_groups(departments, department.path if department else None),
    )
    lessons = [
        lesson
        for lesson in await lessons_service.list_lessons(session, version_id=version.id, with_bodies=False)
        if not lesson.is_appendix
    ]
    quizzes = await quiz_service.quizzes_of_version(session, version_id=version.id)
    definitions = {record["def"]["id"]: record["def"] for q in quizzes.values() for record in q.questions}
    # A question of a lesson's test may be drawn into the final test too: it is named by its lesson's test.
    by_lesson_last = sorted(quizzes.values(), key=lambda quiz: quiz.lesson_slug is not None)
    tests = {record["def"]["id"]: quiz.title for quiz in by_lesson_last for record in quiz.questions}
    group_departments = [d for d in departments if d.id in {g.department_id for g in groups}]
    return Figures(
        headline=headline,
        groups=groups,
        per_day=await analysis.completions_by_day(session, scope=scope, roster_filter=everyone, now=now),
        due_at=await analysis.most_common_due_date(session, scope=scope, roster_filter=everyone, now=now),
        funnel=await analysis.funnel(
            session,
            scope=scope,
            roster_filter=everyone,
            now=now,
            lessons=[(lesson.slug, lesson.title, lesson.slug in quizzes) for lesson in lessons],
        ),
        items=await analysis.item_analysis(
            session, scope=scope, roster_filter=everyone, now=now, definitions=definitions, tests=tests
        ),
        misconceptions=await analysis.misconceptions(
            session,
            scope=scope,
            roster_filter=everyone,
            now=now,
            labels=version.misconceptions,
            groups=group_departments,
        ),
        computed_at=now,
    )


async def store(session: AsyncSession, *, course_id: int, key: str, figures: Figures) -> None:
    await insert_or_update(
        session,
        DashboardSnapshot,
        values={
            "course_id": course_id,
            "key": key,
            "computed_at": figures.computed_at,
            "figures": figures.to_json(),
        },
        conflict_columns=["course_id", "key"],
        update_columns=["computed_at", "figures"],
    )


async def figures_for(
    session: AsyncSession,
    *,
    scope: Scope,
    version: CourseVersion,
    everyone: RosterFilter,
    departments: list[Department],
    department: Department | None,
    now: datetime,
) -> Figures:
    """The snapshot for this view: read by key; when it is stale, a job is asked for the next one and this one is
    shown meanwhile; computed here only when the view has never been seen."""
    key = snapshot_key(version_id=version.id, scope=scope, department_path=everyone.department_path)
    row = (
        await session.execute(
            select(DashboardSnapshot.computed_at, DashboardSnapshot.figures).where(
                DashboardSnapshot.course_id == version.course_id, DashboardSnapshot.key == key
            )
        )
    ).first()
    if row is not None:
        figures = Figures.from_json(row.figures, row.computed_at)
        if not figures.is_fresh(now):
            await request_refresh(session, version=version, scope=scope, department=department, key=key, since=row)
        return figures
    figures = await compute(
        session,
        scope=scope,
        version=version,
        everyone=everyone,
        departments=departments,
        department=department,
        now=now,
    )
    await store(session, course_id=version.course_id, key=key, figures=figures)
    return figures


async def request_refresh(
    session: AsyncSession, *, version: CourseVersion, scope: Scope, department: Department | None, key: str, since: Any
) -> None:
    """One job per stale snapshot, however many managers look at it meanwhile (the key names the generation)."""
    await queue.enqueue(
        session,
        REFRESH_SNAPSHOT,
        {
            "course_id": version.course_id,
            "version_id": version.id,
            "everything": scope.everything,
            "paths": list(scope.paths),
            "department_id": department.id if department else None,
        },
        key=f"dashboard-snapshot:{key}:{since.computed_at.isoformat()}",
        subject="受講状況の集計",
        priority=5,
    )


async def refresh_snapshot(context: JobContext) -> dict[str, Any]:
    """The job: compute one snapshot again, for the version that was current when it was asked for."""
    payload = context.payload
    scope = Scope(everything=bool(payload["everything"]), paths=tuple(payload["paths"]))
    async with context.transaction() as session:
        _course, version = await content_service.course_of_version(session, version_id=int(payload["version_id"]))
        departments = await org_service.departments_in_scope(session, scope=scope)
        department = next((d for d in departments if d.id == payload["department_id"]), None)
        if payload["department_id"] is not None and department is None:
            return {"skipped": "部署がもう範囲にありません"}
        everyone = RosterFilter(course_id=version.course_id, department_path=department.path if department else None)
        figures = await compute(
            session,
            scope=scope,
            version=version,
            everyone=everyone,
            departments=departments,
            department=department,
            now=utcnow(),
        )
        key = snapshot_key(version_id=version.id, scope=scope, department_path=everyone.department_path)
        await store(session, course_id=version.course_id, key=key, figures=figures)
    return {"assigned": figures.headline.assigned}


REFRESH_SNAPSHOT = JobKind(
    "dashboard.snapshot", refresh_snapshot, max_attempts=3, timeout_seconds=300, label="受講状況の集計"
)
