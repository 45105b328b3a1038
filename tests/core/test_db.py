from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def test_sqlite_runs_with_wal_and_foreign_keys(db: AsyncSession) -> None:
    if db.bind.dialect.name != "sqlite":
        assert db.bind.dialect.name == "postgresql"
        return
    assert (await db.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
    assert (await db.execute(text("PRAGMA foreign_keys"))).scalar() == 1
