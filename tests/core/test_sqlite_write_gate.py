"""SQLite's write gate (app/core/sqlite_driver.py): a process's writers queue on the event loop, first come first
served, instead of sleeping in SQLite's busy handler; the gate opens whenever a write transaction ends, however it
ends. Runs on SQLite only."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from fastapi import FastAPI
from sqlalchemy import Update, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core import sqlite_driver
from app.core.sqlite_driver import starts_write_transaction, write_gate
from tests.conftest import make_user


@pytest.fixture
def sqlite_only(db: AsyncSession) -> None:
    if db.bind.dialect.name != "sqlite":
        pytest.skip("SQLite's write gate")


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("INSERT INTO users (email) VALUES (?)", True),
        ("  update users SET email = ?", True),
        ("DELETE FROM users", True),
        ("REPLACE INTO users (id) VALUES (?)", True),
        ("BEGIN IMMEDIATE", True),
        ("SELECT id FROM users", False),
        ("WITH x AS (SELECT 1) SELECT * FROM x", False),
        ("PRAGMA busy_timeout=0", False),
        ("SAVEPOINT sa_savepoint_1", False),
    ],
)
def test_the_statements_that_open_a_write_transaction(statement: str, expected: bool) -> None:
    assert starts_write_transaction(statement) is expected


def _rename(user_id: int, name: str) -> Update:
    return update(User).where(User.id == user_id).values(display_name=name)


def _database_file(app: FastAPI) -> str:
    return app.state.settings.database_url.split("///", 1)[-1]


async def _no_busy_wait(session: AsyncSession) -> None:
    """Turn SQLite's busy handler off on this session's connection: meeting the lock now fails at once."""
    await session.execute(text("PRAGMA busy_timeout=0"))


async def test_a_second_writer_waits_for_the_first_on_the_gate_not_in_sqlites_busy_handler(
    app, db: AsyncSession, sqlite_only: None
) -> None:
    user_id = (await make_user(db, "gate@example.com")).id
    async with app.state.sessionmaker() as first, app.state.sessionmaker() as second:
        await _no_busy_wait(second)
        await first.execute(_rename(user_id, "一人目"))  # holds SQLite's write lock and the gate
        waiting = asyncio.create_task(second.execute(_rename(user_id, "二人目")))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # without the gate it would have failed with "database is locked" by now
        assert write_gate(_database_file(app)).lock.locked()
        await first.commit()
        await asyncio.wait_for(waiting, 5)
        await second.commit()
    db.expire_all()
    assert (await db.get(User, user_id)).display_name == "二人目"


async def test_waiting_writers_go_in_the_order_they_came(app, db: AsyncSession, sqlite_only: None) -> None:
    user_id = (await make_user(db, "order@example.com")).id
    finished: list[int] = []

    async def write(n: int) -> None:
        async with app.state.sessionmaker() as session:
            await session.execute(_rename(user_id, f"{n}"))
            await session.commit()
            finished.append(n)

    async with app.state.sessionmaker() as holder:
        await holder.execute(_rename(user_id, "holder"))
        writers = []
        for n in range(5):
            writers.append(asyncio.create_task(write(n)))
            await asyncio.sleep(0.01)  # each reaches the gate before the next starts
        await holder.commit()
    await asyncio.wait_for(asyncio.gather(*writers), 5)
    assert finished == [0, 1, 2, 3, 4]
    db.expire_all()
    assert (await db.get(User, user_id)).display_name == "4"


@pytest.mark.parametrize("ending", ["rollback", "close", "error then rollback"])
async def test_the_gate_opens_however_the_write_transaction_ends(
    app, db: AsyncSession, sqlite_only: None, ending: str
) -> None:
    user_id = (await make_user(db, "ending@example.com")).id
    taken_email = (await make_user(db, "other@example.com")).email
    first = app.state.sessionmaker()
    if ending == "error then rollback":
        await first.execute(_rename(user_id, "途中"))
        with pytest.raises(IntegrityError):  # the unique e-mail: the statement fails inside the transaction
            await first.execute(update(User).where(User.id == user_id).values(email=taken_email))
    else:
        await first.execute(_rename(user_id, "途中"))
    gate = write_gate(_database_file(app))
    assert gate.lock.locked()  # a failed statement leaves the transaction open, and the gate with it
    if ending == "close":
        await first.close()
    else:
        await first.rollback()
    assert not gate.lock.locked()
    async with app.state.sessionmaker() as second:
        await _no_busy_wait(second)
        await asyncio.wait_for(second.execute(_rename(user_id, "次")), 1)
        await second.commit()
    await first.close()
    db.expire_all()
    assert (await db.get(User, user_id)).display_name == "次"


async def test_a_read_never_waits_for_the_gate(app, db: AsyncSession, sqlite_only: None) -> None:
    user_id = (await make_user(db, "reader@example.com")).id
    async with app.state.sessionmaker() as writer, app.state.sessionmaker() as reader:
        await writer.execute(_rename(user_id, "未確定"))
        name = await asyncio.wait_for(reader.scalar(select(User.display_name).where(User.id == user_id)), 1)
        assert name != "未確定"  # WAL: the reader sees the last committed row, and did not queue
        await writer.rollback()
        await reader.rollback()


async def test_a_writer_that_waits_longer_than_the_busy_timeout_gets_sqlites_own_error(
    app, db: AsyncSession, sqlite_only: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_driver, "BUSY_TIMEOUT_S", 0.1)
    user_id = (await make_user(db, "timeout@example.com")).id
    async with app.state.sessionmaker() as holder, app.state.sessionmaker() as late:
        await holder.execute(_rename(user_id, "保持"))
        with pytest.raises(DBAPIError) as refused:
            await late.execute(_rename(user_id, "遅刻"))
        assert isinstance(refused.value.orig, sqlite3.OperationalError)
        assert "database is locked" in str(refused.value.orig)
        await late.rollback()
        await holder.commit()
        await late.execute(_rename(user_id, "再試行"))  # the gate is free again and the late writer gets it
        await late.commit()
    db.expire_all()
    assert (await db.get(User, user_id)).display_name == "再試行"
