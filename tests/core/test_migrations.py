"""The migrations and the models agree, migrate both ways, and the app refuses an out-of-date database."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from app.core import migrate
from app.core.config import Environment, Settings
from app.core.db import UTCDateTime
from app.core.migrate import pending_migration_message
from app.main import create_app
from app.models import Base


async def test_autogenerate_finds_no_difference_between_migrations_and_models(database_url: str) -> None:
    engine = create_async_engine(database_url)
    async with engine.connect() as connection:
        diff = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata)
        )
    await engine.dispose()
    assert diff == []


def test_every_migration_file_is_date_stamped_and_reversible() -> None:
    versions = Path(migrate.MIGRATIONS_DIR / "versions")
    files = sorted(versions.glob("*.py"))
    assert files
    for file in files:
        assert file.name[:16].replace("-", "").replace("_", "").isdigit(), file.name
        assert "def downgrade() -> None:\n    pass" not in file.read_text(), file.name


async def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    """Every migration is reversible on the database under test (SQLite locally, PostgreSQL in CI)."""
    await asyncio.to_thread(migrate.downgrade, database_url, "base")
    engine = create_async_engine(database_url)
    assert await pending_migration_message(engine) is not None
    await asyncio.to_thread(migrate.upgrade, database_url)
    assert await pending_migration_message(engine) is None
    await engine.dispose()


async def test_app_on_an_unmigrated_database_says_which_command_to_run(tmp_path: Path) -> None:
    settings = Settings(
        env=Environment.TEST, database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}", secret_key="s" * 40
    )
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        page = await client.get("/login")
        assert page.status_code == 503 and "lms db upgrade" in page.text
        health = await client.get("/healthz")
        assert health.status_code == 503 and "lms db upgrade" in health.json()["detail"]
        # once migrated, the same running app serves without a restart
        await asyncio.to_thread(migrate.upgrade, settings.database_url)
        assert (await client.get("/login")).status_code == 200
        assert (await client.get("/healthz")).json() == {"status": "ok"}
    await app.state.engine.dispose()


async def test_healthz_is_ok_on_the_test_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def _insert(connection, table: str, **values) -> int:
    columns = [sa.column(name, UTCDateTime() if name.endswith("_at") else None) for name in [*values, "id"]]
    statement = sa.table(table, *columns).insert().values(**values).returning(sa.column("id"))
    return (await connection.execute(statement)).scalar_one()


async def test_0007_numbers_the_attempts_already_taken_in_the_order_they_were_started(database_url: str, app) -> None:
    """Per learner, course and test (across versions; the final test too), by start time then id; the attempts'
    answers survive the way up and down (SQLite rebuilds the table to add the constraints). Raw SQL on purpose:
    the schema at 0006 never changes, the models will. The `app` fixture empties the tables afterwards."""
    at = datetime(2026, 4, 1, 9, tzinfo=UTC)
    await asyncio.to_thread(migrate.downgrade, database_url, "0006")
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            learners = [
                await _insert(
                    connection,
                    "users",
                    email=f"{name}@example.com",
                    display_name=name,
                    password_hash="!",
                    role="learner",
                    is_active=True,
                    created_at=at,
                )
                for name in ("a", "b")
            ]
            course = await _insert(connection, "courses", slug="c")
            versions = [
                await _insert(
                    connection,
                    "course_versions",
                    course_id=course,
                    number=number,
                    title="t",
                    description="",
                    completion="{}",
                    misconceptions="{}",
                    source_hash=str(number),
                    imported_at=at,
                    note="",
                    reread_slugs="[]",
                    reread_since="{}",
                )
                for number in (1, 2)
            ]

            async def quiz(version: int, slug: str | None) -> int:
                return await _insert(
                    connection,
                    "quizzes",
                    version_id=version,
                    lesson_slug=slug,
                    title="q",
                    pass_mark=80,
                    max_attempts=0,
                    shuffle_questions=False,
                    shuffle_choices=False,
                    partial_credit=False,
                    questions="[]",
                )

            basics_v1, basics_v2, final = (
                await quiz(versions[0], "basics"),
                await quiz(versions[1], "basics"),
                await quiz(versions[0], None),
            )
            expected: dict[int, int] = {}
            for learner, quiz_id, hours, number in [
                (learners[0], basics_v1, 3, 4),
                (learners[0], basics_v1, 1, 1),
                (learners[0], basics_v1, 2, 2),
                (learners[0], basics_v1, 2, 3),
                (learners[0], basics_v2, 4, 5),  # same start: by id; across versions
                (learners[0], final, 2, 2),
                (learners[0], final, 1, 1),
                (learners[1], basics_v1, 5, 1),
            ]:
                slug = None if quiz_id == final else "basics"
                attempt = await _insert(
                    connection,
                    "attempts",
                    user_id=learner,
                    quiz_id=quiz_id,
                    course_id=course,
                    lesson_slug=slug,
                    seed=1,
                    paper="[]",
                    started_at=at + timedelta(hours=hours),
                )
                await _insert(
                    connection, "attempt_answers", attempt_id=attempt, question_id="q1", answer="null", answered_at=at
                )
                expected[attempt] = number

        await asyncio.to_thread(migrate.upgrade, database_url, "0007")
        async with engine.connect() as connection:
            rows = (await connection.execute(sa.text("SELECT id, attempt_number, test_key FROM attempts"))).all()
            assert {row.id: row.attempt_number for row in rows} == expected
            assert sorted({row.test_key for row in rows}) == ["", "basics"]
            answers = await connection.scalar(sa.text("SELECT COUNT(*) FROM attempt_answers"))
            assert answers == len(expected)

        await asyncio.to_thread(migrate.downgrade, database_url, "0006")
        async with engine.connect() as connection:
            assert await connection.scalar(sa.text("SELECT COUNT(*) FROM attempt_answers")) == len(expected)
    finally:
        await engine.dispose()
        await asyncio.to_thread(migrate.upgrade, database_url)


async def test_upgrading_an_existing_database_keeps_the_rows_of_rebuilt_tables(database_url: str, app) -> None:
    """0005 rebuilds `users` on SQLite (copy, drop, rename); with foreign keys on, the drop used to delete every
    session, enrollment and attempt through ON DELETE CASCADE. Raw SQL at 0004 on purpose: that schema is fixed."""
    at = datetime(2026, 4, 1, 9, tzinfo=UTC)
    await asyncio.to_thread(migrate.downgrade, database_url, "0004")
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            learner = await _insert(
                connection,
                "users",
                email="kept@example.com",
                display_name="残る 人",
                password_hash="!",
                role="learner",
                is_active=True,
                created_at=at,
            )
            await connection.execute(
                sa.text(
                    "INSERT INTO user_sessions (token_hash, user_id, created_at, last_seen_at) VALUES ('h', :u, :t, :t)"
                ),
                {"u": learner, "t": at.replace(tzinfo=None)},
            )
            course = await _insert(connection, "courses", slug="c")
            await connection.execute(
                sa.text("INSERT INTO enrollments (user_id, course_id, assigned_at) VALUES (:u, :c, :t)"),
                {"u": learner, "c": course, "t": at},
            )
        await asyncio.to_thread(migrate.upgrade, database_url)
        async with engine.connect() as connection:
            for table in ("users", "user_sessions", "enrollments"):
                assert await connection.scalar(sa.text(f"SELECT COUNT(*) FROM {table}")) == 1, table
    finally:
        await engine.dispose()
        await asyncio.to_thread(migrate.upgrade, database_url)


async def test_0008_issues_certificates_for_completions_made_before_certificates(database_url: str, app) -> None:
    from app.certificates import codes

    at = datetime(2026, 4, 1, 9, tzinfo=UTC)
    await asyncio.to_thread(migrate.downgrade, database_url, "0007")
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            learner = await _insert(
                connection,
                "users",
                email="done@example.com",
                display_name="修了 済子",
                password_hash="!",
                role="learner",
                is_active=True,
                created_at=at,
            )
            course = await _insert(connection, "courses", slug="c")
            version = await _insert(
                connection,
                "course_versions",
                course_id=course,
                number=3,
                title="研修",
                description="",
                completion="{}",
                misconceptions="{}",
                source_hash="h",
                imported_at=at,
                note="",
                reread_slugs="[]",
                reread_since="{}",
            )
            await _insert(
                connection, "course_completions", user_id=learner, course_id=course, version_id=version, completed_at=at
            )
        await asyncio.to_thread(migrate.upgrade, database_url, "0008")
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.text(
                        "SELECT code, user_id, holder_name, course_title, version_number, expires_at FROM certificates"
                    )
                )
            ).all()
            assert [(r.user_id, r.holder_name, r.course_title, r.version_number, r.expires_at) for r in rows] == [
                (learner, "修了 済子", "研修", 3, None)
            ]
            assert codes.check(rows[0].code) is codes.CodeCheck.WELL_FORMED
            completed = await connection.scalar(
                sa.select(sa.column("completed_at", UTCDateTime())).select_from(sa.table("certificates"))
            )
            assert completed == at
    finally:
        await engine.dispose()
        await asyncio.to_thread(migrate.upgrade, database_url)
