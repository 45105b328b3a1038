"""The two driver adapters (app/core/sqlite_driver.py, app/core/pg_driver.py): what they skip, and that skipping it
changes no result. Runs on SQLite, and the database tests again on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import aiosqlite
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core.db import with_our_dialect
from app.core.pg_driver import needs_transaction
from app.core.sqlite_driver import INLINE_READ
from tests.conftest import make_user

BY_EMAIL = select(User.id, User.email).where(User.email == "inline@example.com")


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("SELECT users.id FROM users WHERE users.id = $1", False),
        ("  select 1", False),
        ("SELECT id FROM users WHERE id = $1 FOR UPDATE", True),
        ("SELECT id FROM jobs LIMIT 5 FOR UPDATE SKIP LOCKED", True),
        ("SELECT id FROM users FOR NO KEY UPDATE", True),
        ("SELECT id FROM users FOR SHARE", True),
        ("SELECT id FROM users\nFOR  KEY SHARE", True),
        ("INSERT INTO users (email) VALUES ($1)", True),
        ("UPDATE users SET email = $1", True),
        ("DELETE FROM users", True),
        ("WITH moved AS (DELETE FROM jobs RETURNING id) SELECT count(*) FROM moved", True),
        ("SAVEPOINT sa_savepoint_1", True),
    ],
)
def test_only_a_plain_select_runs_before_the_transaction_opens(statement: str, expected: bool) -> None:
    assert needs_transaction(statement) is expected


def test_the_app_uses_its_own_dialects_and_leaves_other_urls_alone() -> None:
    assert with_our_dialect("sqlite+aiosqlite:///var/lms.sqlite3") == "sqlite+lms_aiosqlite:///var/lms.sqlite3"
    assert with_our_dialect("postgresql+asyncpg://u:p@h/db") == "postgresql+lms_asyncpg://u:p@h/db"
    assert with_our_dialect("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert with_our_dialect("sqlite:///x") == "sqlite:///x"


@contextmanager
def trips_to_sqlite_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every call aiosqlite hands to its thread, by the function's name."""
    trips: list[str] = []
    real = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield trips


async def _raw_in_transaction(session: AsyncSession) -> bool:
    raw = await (await session.connection()).get_raw_connection()
    return raw.driver_connection._conn.in_transaction


async def test_on_sqlite_a_read_only_unit_of_work_never_waits_for_the_thread(
    app, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.bind.dialect.name != "sqlite":
        pytest.skip("SQLite's driver thread")
    await make_user(db, "inline@example.com")
    async with app.state.sessionmaker() as warm:  # a connection in the pool, as in a running app
        await warm.execute(text("SELECT 1"))
    with trips_to_sqlite_thread(monkeypatch) as trips:
        async with app.state.sessionmaker() as session:
            inline = (await session.execute(BY_EMAIL.execution_options(**INLINE_READ))).one()
            assert not await _raw_in_transaction(session)
            await session.commit()
        assert trips == [], trips  # no cursor, no fetch, no COMMIT, no ROLLBACK on the pool's reset
        async with app.state.sessionmaker() as session:
            threaded = (await session.execute(BY_EMAIL)).one()
        assert len(trips) == 1, trips  # execute and fetch together, in one trip
    assert inline == threaded
    assert inline.email == "inline@example.com"


async def test_on_sqlite_a_write_still_goes_through_the_thread_and_commits(
    app, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    if db.bind.dialect.name != "sqlite":
        pytest.skip("SQLite's driver thread")
    user_id = (await make_user(db, "inline@example.com")).id
    with trips_to_sqlite_thread(monkeypatch) as trips:
        async with app.state.sessionmaker() as session:
            await session.execute(update(User).where(User.id == user_id).values(display_name="書き換え"))
            assert await _raw_in_transaction(session)
            await session.commit()
        assert len(trips) == 2, trips  # the UPDATE, then the COMMIT
    db.expire_all()
    assert (await db.get(User, user_id)).display_name == "書き換え"


async def test_an_inline_read_that_fails_raises_the_usual_error(app) -> None:
    async with app.state.sessionmaker() as session:
        with pytest.raises(DBAPIError):
            await session.execute(text("SELECT no_such_column FROM users").execution_options(**INLINE_READ))
        await session.rollback()
        assert (await session.execute(text("SELECT 1").execution_options(**INLINE_READ))).scalar_one() == 1


async def _in_one_transaction_since_first_statement(session: AsyncSession) -> bool:
    """PostgreSQL: whether two statements 20 ms apart belong to one transaction (same transaction_timestamp)."""
    now = text("SELECT transaction_timestamp()")
    first = (await session.execute(now)).scalar_one()
    await asyncio.sleep(0.02)
    return first == (await session.execute(now)).scalar_one()


async def test_on_postgresql_reads_run_without_begin_until_the_first_write(app, db: AsyncSession) -> None:
    if db.bind.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's transactions")
    user_id = (await make_user(db, "inline@example.com")).id
    async with app.state.sessionmaker() as session:
        await session.execute(BY_EMAIL)
        assert not await _in_one_transaction_since_first_statement(session)  # each read its own snapshot
        await session.execute(update(User).where(User.id == user_id).values(display_name="書き換え"))
        assert await _in_one_transaction_since_first_statement(session)  # the write opened the transaction
        await session.rollback()
    db.expire_all()
    assert (await db.get(User, user_id)).display_name != "書き換え"  # and rolling back undid it


async def test_on_postgresql_a_locking_read_opens_the_transaction_and_holds_its_lock(app, db: AsyncSession) -> None:
    if db.bind.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's row locks")
    user = await make_user(db, "inline@example.com")
    async with app.state.sessionmaker() as holder, app.state.sessionmaker() as other:
        await holder.execute(select(User.id).where(User.id == user.id).with_for_update())
        assert await _in_one_transaction_since_first_statement(holder)
        await other.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(DBAPIError, match="lock"):  # lock_timeout: the row is still locked by the holder
            await other.execute(select(User.id).where(User.id == user.id).with_for_update())
        await other.rollback()
        await holder.rollback()
