"""`python -m bench.seed organisation` builds a consistent organisation: its counters agree with counting the
roster directly."""

from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

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
from bench import seed
from tests.dashboard.oracle import headline_from_roster

CONTENT = Path(__file__).resolve().parents[2] / "content"


async def test_seeded_organisation_is_consistent(db: AsyncSession) -> None:
    await drafts.import_pack(db, pack=load_pack(CONTENT / "kasuhara-basics"))
    report = await seed.seed(db, employees=300)
    await db.commit()
    assert report.departments == 610
    assert await db.scalar(select(func.count(User.id)).where(User.role == "learner")) == 300
    course, _version = await content_service.get_course(db, slug="kasuhara-basics")
    now = utcnow()
    manager = await db.scalar(select(User).where(User.email == report.department_manager))
    for scope in (EVERYTHING, await org_service.scope_for(db, user=manager)):
        whole = RosterFilter(course_id=course.id)
        counted = await service.headline(db, scope=scope, roster_filter=whole, now=now)
        assert counted == await headline_from_roster(db, scope=scope, roster_filter=whole, now=now)
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


def test_benchmark_data_is_refused_for_a_production_database(monkeypatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from app.core import config

    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "p" * 48)
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'never-created.sqlite3'}")
    config.get_settings.cache_clear()
    try:
        for command in (["organisation", "--employees", "10"], ["learners", "--out", str(tmp_path / "c.json")]):
            result = CliRunner().invoke(seed.cli, command)
            assert result.exit_code == 1
            assert "LMS_ENV=production ではベンチマーク用データを作成できません。" in result.output
    finally:
        config.get_settings.cache_clear()
    assert not (tmp_path / "never-created.sqlite3").exists()
