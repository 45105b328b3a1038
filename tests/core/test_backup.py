"""`lms db backup` / `lms db restore` round trip, on the database under test (SQLite locally, PostgreSQL in CI):
everything written before the backup is there after restoring it, in a new database and over changed data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.core.backup import BackupError, backup, restore
from app.models import Base
from tests.org_fixture import Org


async def _snapshot(url: str) -> dict[str, object]:
    """Row counts of every table, plus the values most worth losing sleep over."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            counts = {
                table.name: await connection.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables
            }
            users = (await connection.execute(text("SELECT email, role, is_active FROM users ORDER BY id"))).all()
            scores = (await connection.execute(text("SELECT score FROM attempts ORDER BY id"))).all()
    finally:
        await engine.dispose()
    return {"counts": counts, "users": [tuple(row) for row in users], "scores": [row[0] for row in scores]}


@pytest.fixture
async def empty_database(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A second, empty database on the same server (or a new SQLite file) to restore into."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        yield url.set(database=str(tmp_path / "restored.sqlite3")).render_as_string(hide_password=False)
        return
    name = f"{url.database}_restore"
    admin = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def test_a_backup_restores_everything_into_a_new_database_and_over_changed_data(
    org: Org, db: AsyncSession, database_url: str, empty_database: str, tmp_path: Path
) -> None:
    await db.commit()
    before = await _snapshot(database_url)
    assert before["counts"]["users"] >= 8 and before["counts"]["attempts"] > 0 and before["scores"]
    file = tmp_path / "lms.backup"
    await asyncio.to_thread(backup, database_url, file)

    await asyncio.to_thread(restore, empty_database, file)
    assert await _snapshot(empty_database) == before

    # later changes in the restored database are undone by restoring again, all of them
    engine = create_async_engine(empty_database)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM attempt_answers"))
        await connection.execute(text("UPDATE users SET is_active = false"))
    await engine.dispose()
    await asyncio.to_thread(restore, empty_database, file)
    assert await _snapshot(empty_database) == before


async def test_a_file_that_is_not_a_backup_is_refused_and_changes_nothing(
    org: Org, db: AsyncSession, database_url: str, empty_database: str, tmp_path: Path
) -> None:
    await db.commit()
    file = tmp_path / "lms.backup"
    await asyncio.to_thread(backup, database_url, file)
    await asyncio.to_thread(restore, empty_database, file)
    before = await _snapshot(empty_database)
    bogus = tmp_path / "notes.txt"
    bogus.write_text("これはバックアップではありません" * 100, encoding="utf-8")
    with pytest.raises(BackupError):
        await asyncio.to_thread(restore, empty_database, bogus)
    assert await _snapshot(empty_database) == before
    with pytest.raises(BackupError, match="がありません"):
        await asyncio.to_thread(restore, empty_database, tmp_path / "missing.backup")
