"""Figures checked against the hand-worked organisation in conftest.py."""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import service as assignment_service
from app.core.db import utcnow
from app.dashboard import analysis, service
from app.dashboard.roster import RosterFilter, Status
from app.enrolments.models import Enrollment
from app.org import service as org_service
from app.org.scope import EVERYTHING
from tests.conftest import make_user
from tests.dashboard.oracle import headline_from_roster
from tests.org_fixture import Org


async def test_headline_for_admin_and_each_manager(db: AsyncSession, org: Org) -> None:
    now = utcnow()
    whole = RosterFilter(course_id=org.course.id)
    admin = await service.headline(db, scope=EVERYTHING, roster_filter=whole, now=now)
    assert (admin.assigned, admin.completed, admin.in_progress, admin.not_started, admin.overdue) == (5, 1, 2, 2, 3)
    assert admin.completion_rate == 20.0
    scope_a = await org_service.scope_for(db, user=org.users["manager_a"])
    a = await service.headline(db, scope=scope_a, roster_filter=whole, now=now)
    assert (a.assigned, a.completed, a.in_progress, a.not_started, a.overdue) == (3, 1, 1, 1, 2)
    scope_b = await org_service.scope_for(db, user=org.users["manager_b"])
    b = await service.headline(db, scope=scope_b, roster_filter=whole, now=now)
    # e4's direct assignment (due in 10 days) overrides the department's deadline: only e5 is late.
    assert (b.assigned, b.completed, b.in_progress, b.not_started, b.overdue) == (2, 0, 1, 1, 1)


async def test_completion_before_the_deadline_is_never_overdue(db: AsyncSession, org: Org) -> None:
    overdue = await service.employee_page(
        db, scope=EVERYTHING, now=utcnow(), roster_filter=RosterFilter(course_id=org.course.id, status=Status.OVERDUE)
    )
    assert sorted(row["email"] for row in overdue.rows) == ["e1@example.com", "e3@example.com", "e5@example.com"]


async def test_department_figures_roll_up_to_the_chart_groups(db: AsyncSession, org: Org) -> None:
    figures = await service.by_department(
        db, scope=EVERYTHING, roster_filter=RosterFilter(course_id=org.course.id), now=utcnow()
    )
    departments = await org_service.departments_in_scope(db, scope=EVERYTHING)
    groups = service.roll_up(figures, service.chart_groups(departments, None))
    assert [(g.name, g.assigned, g.completed, g.overdue) for g in groups] == [("営業部", 3, 1, 2), ("店舗部", 2, 0, 1)]


async def test_a_late_joiner_is_covered_by_the_department_assignment(db: AsyncSession, org: Org) -> None:
    newcomer = await make_user(db, "new@example.com", name="新人")
    newcomer.department_id = org.departments["第一課"].id
    await db.flush()
    await assignment_service.sync_user(db, user_id=newcomer.id)
    enrollment = await db.scalar(select(Enrollment).where(Enrollment.user_id == newcomer.id))
    assert enrollment is not None and enrollment.course_id == org.course.id
    assert enrollment.due_at is not None and enrollment.due_at < utcnow()
    scope_a = await org_service.scope_for(db, user=org.users["manager_a"])
    a = await service.headline(db, scope=scope_a, roster_filter=RosterFilter(course_id=org.course.id), now=utcnow())
    assert a.assigned == 4 and a.not_started == 2


async def test_item_analysis_and_misconceptions_on_known_answers(db: AsyncSession, org: Org) -> None:
    from app.dashboard.pages import question_definitions

    definitions = await question_definitions(db, version_id=org.course.current_version_id)
    rows = await analysis.item_analysis(
        db, scope=EVERYTHING, roster_filter=RosterFilter(course_id=org.course.id), now=utcnow(), definitions=definitions
    )
    single = next(row for row in rows if row.question_id == "b-single")
    assert (single.answered, single.correct, single.correct_rate) == (3, 1, 33.3)
    assert single.top_wrong == "顧客の年齢と来店回数" and single.top_wrong_count == 2
    assert rows[0].correct_rate <= rows[-1].correct_rate  # worst first

    departments = await org_service.departments_in_scope(db, scope=EVERYTHING)
    ranking = await analysis.misconceptions(
        db,
        scope=EVERYTHING,
        roster_filter=RosterFilter(course_id=org.course.id),
        now=utcnow(),
        labels={},
        groups=service.chart_groups(departments, None),
    )
    assert [(m.key, m.count, m.by_group) for m in ranking] == [("customer-is-god", 2, {"営業部": 1, "店舗部": 1})]


async def test_timeline_counts_completions_per_day() -> None:
    today = utcnow().date()
    series = analysis.cumulative_series(
        {today - timedelta(days=40): 2, today - timedelta(days=1): 1, today: 3}, today=today, days=5
    )
    assert [value for _day, value in series] == [2, 2, 2, 3, 6]


async def test_counters_match_a_direct_count_for_every_scope(db: AsyncSession, org: Org) -> None:
    """The roster counters, kept up to date event by event, agree with counting the roster row by row."""
    now = utcnow()
    for who in ("admin", "manager_a", "manager_b"):
        scope = await org_service.scope_for(db, user=org.users[who])
        for department in [None, *org.departments.values()]:
            if department is not None and not scope.covers_path(department.path):
                continue
            roster_filter = RosterFilter(
                course_id=org.course.id, department_path=department.path if department else None
            )
            counted = await service.headline(db, scope=scope, roster_filter=roster_filter, now=now)
            direct = await headline_from_roster(db, scope=scope, roster_filter=roster_filter, now=now)
            assert counted == direct, (who, department.name if department else "all")


async def test_lesson_funnel_counts_first_open_read_and_pass(db: AsyncSession, org: Org) -> None:
    rows = await analysis.funnel(
        db,
        scope=EVERYTHING,
        roster_filter=RosterFilter(course_id=org.course.id),
        now=utcnow(),
        lessons=[("basics", "基本", True), ("responses", "対応", True)],
    )
    assert [(r.opened, r.read, r.passed) for r in rows] == [(3, 2, 1), (1, 1, 1)]
    scope_b = await org_service.scope_for(db, user=org.users["manager_b"])
    rows_b = await analysis.funnel(
        db,
        scope=scope_b,
        roster_filter=RosterFilter(course_id=org.course.id),
        now=utcnow(),
        lessons=[("basics", "基本", True)],
    )
    assert [(r.opened, r.read, r.passed) for r in rows_b] == [(1, 1, 0)]
