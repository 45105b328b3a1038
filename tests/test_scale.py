"""`lms bench seed` builds a consistent organisation: its counters agree with counting the roster directly."""

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import scale
from app.auth.models import User
from app.authoring import drafts
from app.content import service as content_service
from app.content.pack import load_pack
from app.core.db import utcnow
from app.dashboard import analysis, service
from app.dashboard.roster import RosterFilter
from app.org import service as org_service
from app.org.models import Department
from app.org.scope import EVERYTHING

CONTENT = Path(__file__).resolve().parents[1] / "content"


async def test_seeded_organisation_is_consistent(db: AsyncSession) -> None:
    await drafts.import_pack(db, pack=load_pack(CONTENT / "kasuhara-basics"))
    report = await scale.seed(db, employees=300)
    await db.commit()
    assert report.departments == 610
    assert await db.scalar(select(func.count(User.id)).where(User.role == "learner")) == 300
    course, _version = await content_service.get_course(db, slug="kasuhara-basics")
    now = utcnow()
    manager = await db.scalar(select(User).where(User.email == report.department_manager))
    for scope in (EVERYTHING, await org_service.scope_for(db, user=manager)):
        whole = RosterFilter(course_id=course.id)
        counted = await service.headline(db, scope=scope, roster_filter=whole, now=now)
        assert counted == await service.headline_from_roster(db, scope=scope, roster_filter=whole, now=now)
    assert counted.assigned == 5  # a department holds 5 of the 500 sections, and 300 employees fill one each

    everyone = RosterFilter(course_id=course.id)
    per_day = await analysis.completions_by_day(db, scope=EVERYTHING, roster_filter=everyone, now=now)
    completions = sum(per_day.values())
    headline = await service.headline(db, scope=EVERYTHING, roster_filter=everyone, now=now)
    assert completions == headline.completed > 0
    # a new employee can still be created afterwards (PostgreSQL sequences moved past the seeded ids)
    department = await db.scalar(select(Department).limit(1))
    from tests.conftest import make_user

    newcomer = await make_user(db, "after-seed@example.com")
    assert newcomer.id > 300 and department is not None
