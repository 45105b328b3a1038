"""The migrations and the models agree, migrate both ways, and the app refuses an out-of-date database."""

import asyncio
from pathlib import Path

import httpx
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from app.core import migrate
from app.core.config import Environment, Settings
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
    settings = Settings(env=Environment.TEST, database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}",
                        secret_key="s" * 40)  # fmt: skip
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
