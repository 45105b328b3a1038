"""Shared fixtures: one migrated database per test session, emptied after every test.

LMS_TEST_DATABASE_URL selects the database (PostgreSQL in CI); by default a temporary SQLite file.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.assignments import service as assignment_service
from app.auth import service as auth_service
from app.auth.models import Role, User
from app.authoring import drafts
from app.content.models import Course
from app.content.pack import load_pack
from app.core import migrate
from app.core.config import Environment, Settings
from app.jobs.worker import Worker, WorkerOptions
from app.main import create_app
from app.models import Base
from app.org.scope import EVERYTHING

FIXTURES = Path(__file__).parent / "fixtures"
MINI_COURSE = FIXTURES / "mini-course"
PASSWORD = "correct horse battery staple"
DB_FIXTURES = {"database_url", "db", "app", "client"}
pytest_plugins = ["tests.org_fixture"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that touches the database, so CI can run exactly those again on PostgreSQL."""
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


async def _reset_postgres_schema(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def _hash_each_test_password_once() -> Iterator[None]:
    """argon2 is slow on purpose (about 0.2 s a hash here) and fixtures create the same few passwords hundreds of
    times, so each distinct password is hashed once per run. Verifying at sign-in still runs argon2 for real."""
    real_hash = auth_service.password_hash.hash
    hashes: dict[str, str] = {}

    def hash_once(password: str | bytes, *args: object, **kwargs: object) -> str:
        key = password.decode() if isinstance(password, bytes) else password
        if key not in hashes:
            hashes[key] = real_hash(password, *args, **kwargs)  # type: ignore[arg-type]
        return hashes[key]

    auth_service.password_hash.hash = hash_once  # type: ignore[method-assign]
    yield
    auth_service.password_hash.hash = real_hash  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A freshly migrated database for this test session."""
    url = os.environ.get("LMS_TEST_DATABASE_URL")
    # Alembic runs its own event loop; a thread keeps it apart from the loop pytest-asyncio may be running.
    with ThreadPoolExecutor(max_workers=1) as thread:
        if url:
            if not url.startswith("postgresql"):
                raise pytest.UsageError("LMS_TEST_DATABASE_URL must be a postgresql+asyncpg:// URL")
            thread.submit(asyncio.run, _reset_postgres_schema(url)).result()
        else:
            url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        thread.submit(migrate.upgrade, url).result()
    return url


@pytest.fixture(scope="session")
def test_settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # No pause between a job's chunks (it lets requests in on a busy SQLite; tests/jobs checks it on its own).
    return Settings(env=Environment.TEST, database_url=database_url, secret_key="t" * 48, job_sqlite_pause_ms=0)


async def _empty_all_tables(url: str) -> None:
    engine = create_async_engine(url)
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            await connection.execute(text("PRAGMA foreign_keys=OFF"))
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))
    await engine.dispose()


@pytest.fixture
async def app(test_settings: Settings) -> AsyncIterator:
    application = create_app(test_settings)
    yield application
    await application.state.engine.dispose()
    await _empty_all_tables(test_settings.database_url)


@pytest.fixture
async def db(app) -> AsyncIterator[AsyncSession]:
    """A session on the app's database for arranging and checking data; commit to make it visible."""
    async with app.state.sessionmaker() as session:
        yield session


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as test_client:
        yield test_client


async def make_user(db: AsyncSession, email: str, role: Role = Role.LEARNER, name: str = "受講 太郎") -> User:
    user = await auth_service.create_user(db, email=email, password=PASSWORD, display_name=name, role=role)
    await db.commit()
    return user


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/login", data={"email": email, "password": password, "next": "/my"})


@pytest.fixture
async def mini_course(app, db: AsyncSession) -> Course:
    version = await drafts.import_pack(db, pack=load_pack(MINI_COURSE))
    await db.commit()
    await run_jobs(app)  # what publishing enqueued: tests start from a quiet queue
    assert version is not None
    course = await db.get(Course, version.course_id)
    assert course is not None
    return course


@pytest.fixture
async def learner(db: AsyncSession, mini_course: Course) -> User:
    user = await make_user(db, "learner@example.com")
    await assignment_service.assign(
        db, course_id=mini_course.id, scope=EVERYTHING, created_by=None, due_at=None, user_id=user.id
    )
    await db.commit()
    return user


@pytest.fixture
async def learner_client(client: httpx.AsyncClient, learner: User) -> httpx.AsyncClient:
    response = await sign_in(client, learner.email)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def repo_root() -> Iterator[Path]:
    yield Path(__file__).resolve().parents[1]


async def run_jobs(app) -> int:
    """Run every due background job (and what they enqueue) to the end, as a worker would; returns how many ran."""
    options = WorkerOptions(run_schedules=False, lease_seconds=30)
    return await Worker(app.state.sessionmaker, app.state.settings, options).run_until_idle()
