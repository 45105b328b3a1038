"""The dashboard's figures come from snapshots read by key: the first view computes one, a stale one is shown
while exactly one job computes the next, and a snapshot holds exactly what adding up the counters gives."""

from datetime import timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.content import service as content_service
from app.core.db import utcnow
from app.dashboard import fragments, snapshots
from app.dashboard.models import DashboardSnapshot
from app.dashboard.roster import RosterFilter
from app.jobs.models import Job
from app.org import service as org_service
from app.org.scope import EVERYTHING
from tests.conftest import run_jobs, sign_in
from tests.org_fixture import Org, take_test


async def _figures(db: AsyncSession, org: Org) -> snapshots.Figures:
    _course, version = await content_service.get_course(db, slug=org.course.slug)
    departments = await org_service.departments_in_scope(db, scope=EVERYTHING)
    return await snapshots.figures_for(
        db,
        scope=EVERYTHING,
        version=version,
        everyone=RosterFilter(course_id=org.course.id),
        departments=departments,
        department=None,
        now=utcnow(),
    )


async def test_a_snapshot_holds_what_the_counters_add_up_to_and_survives_its_round_trip(
    db: AsyncSession, org: Org
) -> None:
    _course, version = await content_service.get_course(db, slug=org.course.slug)
    departments = await org_service.departments_in_scope(db, scope=EVERYTHING)
    now = utcnow()
    computed = await snapshots.compute(
        db,
        scope=EVERYTHING,
        version=version,
        everyone=RosterFilter(course_id=org.course.id),
        departments=departments,
        department=None,
        now=now,
    )
    assert (computed.headline.assigned, computed.headline.completed) == (5, 1)  # the hand-worked organisation
    assert snapshots.Figures.from_json(computed.to_json(), now) == computed
    first = await _figures(db, org)  # the first view computes and stores it
    assert first.to_json() == computed.to_json()
    assert await db.scalar(select(func.count()).select_from(DashboardSnapshot)) == 1


async def test_a_stale_snapshot_is_shown_while_one_job_computes_the_next(app, db: AsyncSession, org: Org) -> None:
    first = await _figures(db, org)
    await db.commit()
    await take_test(db, org.users["e1"], org.course, "basics", answers=None)  # a new attempt moves the counters
    await db.commit()
    again = await _figures(db, org)  # still fresh: read by key, not added up again
    assert again.to_json() == first.to_json()

    await db.execute(update(DashboardSnapshot).values(computed_at=utcnow() - snapshots.SNAPSHOT_MAX_AGE * 2))
    await db.commit()
    for _ in range(3):  # managers keep looking while it is stale: one job, not one per view
        stale = await _figures(db, org)
        await db.commit()
        assert not stale.is_fresh(utcnow()) and stale.to_json() == first.to_json()
    assert await db.scalar(select(func.count()).select_from(Job).where(Job.kind == "dashboard.snapshot")) == 1

    await run_jobs(app)
    refreshed = await _figures(db, org)
    assert refreshed.is_fresh(utcnow())
    _course, version = await content_service.get_course(db, slug=org.course.slug)
    live = await snapshots.compute(
        db,
        scope=EVERYTHING,
        version=version,
        everyone=RosterFilter(course_id=org.course.id),
        departments=await org_service.departments_in_scope(db, scope=EVERYTHING),
        department=None,
        now=utcnow(),
    )
    assert refreshed.to_json() == live.to_json()
    assert refreshed.items != first.items  # the new attempt is counted now


async def test_each_scope_and_department_filter_has_its_own_snapshot(
    client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    await sign_in(client, "manager.a@example.com")
    page = await client.get("/dashboard")
    assert page.status_code == 200 and "集計:" in page.text
    await sign_in(client, "admin@example.com")
    assert (await client.get("/dashboard")).status_code == 200
    department = org.departments["第一課"].id
    assert (await client.get("/dashboard", params={"department": department})).status_code == 200
    assert await db.scalar(select(func.count()).select_from(DashboardSnapshot)) == 3
    # The manager's page shows only their subtree's figures, not the company's snapshot.
    keys = set(await db.scalars(select(DashboardSnapshot.key)))
    scope_a = await org_service.scope_for(db, user=org.users["manager_a"])
    _course, version = await content_service.get_course(db, slug=org.course.slug)
    assert snapshots.snapshot_key(version_id=version.id, scope=scope_a, department_path=None) in keys
    assert snapshots.snapshot_key(version_id=version.id, scope=EVERYTHING, department_path=None) in keys


def test_snapshot_keys_differ_by_version_scope_and_filter() -> None:
    from app.org.scope import Scope

    base = snapshots.snapshot_key(version_id=1, scope=EVERYTHING, department_path=None)
    assert base == snapshots.snapshot_key(version_id=1, scope=EVERYTHING, department_path=None)
    assert base != snapshots.snapshot_key(version_id=2, scope=EVERYTHING, department_path=None)
    assert base != snapshots.snapshot_key(version_id=1, scope=Scope(False, ("本社/",)), department_path=None)
    assert base != snapshots.snapshot_key(version_id=1, scope=EVERYTHING, department_path="本社/")
    assert timedelta(seconds=1) < snapshots.SNAPSHOT_MAX_AGE


async def test_the_figures_part_of_the_page_is_rendered_once_per_snapshot_and_view(
    app, client: httpx.AsyncClient, db: AsyncSession, org: Org, monkeypatch
) -> None:
    fragments.forget_all()
    renders: list[str] = []
    real = fragments.render_fragment

    def counted(request, template, block, context):  # type: ignore[no-untyped-def]
        renders.append(block)
        return real(request, template, block, context)

    monkeypatch.setattr(fragments, "render_fragment", counted)
    await sign_in(client, "admin@example.com")
    first = await client.get("/dashboard")
    again = await client.get("/dashboard")
    assert first.status_code == again.status_code == 200
    assert renders == ["headline", "analysis"]  # the second view reused them
    assert _figures_part(first.text) == _figures_part(again.text)
    assert "部署別の修了率" in _figures_part(first.text)

    overdue = await client.get("/dashboard", params={"status": "overdue"})  # another view: its own links
    assert renders == ["headline", "analysis"] * 2
    assert "status=overdue" in _figures_part(overdue.text)

    # A new snapshot (the counters moved, the job computed it) is a new key: the page shows the new figures.
    await take_test(db, org.users["e1"], org.course, "basics", answers=None)
    await db.execute(update(DashboardSnapshot).values(computed_at=utcnow() - snapshots.SNAPSHOT_MAX_AGE * 2))
    await db.commit()
    stale = await client.get("/dashboard")
    assert "最新の集計を作成中" in _figures_part(stale.text)
    await run_jobs(app)
    fresh = await client.get("/dashboard")
    assert len(renders) == 8  # both parts for each of four keys
    assert "最新の集計を作成中" not in _figures_part(fresh.text)
    assert _figures_part(fresh.text) != _figures_part(first.text)


def _figures_part(html: str) -> str:
    """What the fragment cache holds: the headline (above the employee table) and the analysis (below it)."""
    headline = html[html.index('aria-labelledby="headline-title"') : html.index('id="employee-table"')]
    return headline + html[html.index('id="analysis"') : html.index("</main>")]
