"""Database engine, sessions and the declarative base shared by every domain's models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.dialects.postgresql import insert as _postgresql_insert
from sqlalchemy.dialects.sqlite import insert as _sqlite_insert
from sqlalchemy.engine import Connection, Dialect, ExceptionContext, make_url
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from app.core import pg_driver, sqlite_driver
from app.core.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Always timezone-aware UTC in Python, whatever the database keeps (SQLite keeps naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # A writer waits up to 15 s for SQLite's one write lock (as the connect timeout says) before giving up with a
    # 503: at a deadline rush a slow answer beats "try again later" (docs/performance.md, deadline rush).
    cursor.execute(f"PRAGMA busy_timeout={sqlite_driver.BUSY_TIMEOUT_S * 1000}")
    cursor.close()


def _sqlite_begin_before_savepoint(connection: Connection, _name: str) -> None:
    """The sqlite3 driver opens a transaction by itself only before INSERT, UPDATE and DELETE, so reads before the
    first write see the latest commits and a write transaction always starts by taking the write lock (waiting up
    to busy_timeout, never failing on a stale snapshot). A SAVEPOINT outside a transaction would open one of its
    own, and releasing it would commit part of the unit of work: begin the write transaction first."""
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


# SQLSTATE classes that mean "the database cannot serve right now": connection exception (08), insufficient
# resources such as too many connections (53), operator intervention such as shutting down or starting up (57).
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "57")
# asyncpg, when the server ends a connection between two statements (as a shutdown does), leaves its protocol
# waiting and refuses the next statement with InternalClientError("cannot switch to state …"): the connection is gone.
BROKEN_PROTOCOL = "cannot switch to state"


def connection_lost(error: BaseException) -> bool:
    """Whether a driver error means this connection is dead (so the pool must drop it)."""
    if isinstance(error, OSError):  # refused, reset, unreachable, timed out (TimeoutError is an OSError)
        return True
    # by name: asyncpg's class and the DB-API class SQLAlchemy wraps it in are both called so
    if type(error).__name__ == "InternalClientError" and BROKEN_PROTOCOL in str(error):
        return True
    sqlstate = getattr(error, "sqlstate", None) or ""
    return sqlstate.startswith(("08", "57P"))  # connection failure; shut down, crashed, starting up


def is_unavailable(error: BaseException) -> bool:
    """Whether a driver error means the database is unreachable or not serving, rather than a bad query."""
    sqlstate = getattr(error, "sqlstate", None) or ""
    return connection_lost(error) or sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES


def _connect_or_operational_error(dialect: Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
    """asyncpg reports a refused or timed-out connection as a bare OSError, which SQLAlchemy lets through
    unwrapped (not even its handle_error hook sees it): raise the driver's OperationalError instead."""
    try:
        return dialect.connect(*cargs, **cparams)
    except OSError as error:
        raise dialect.loaded_dbapi.OperationalError(f"cannot connect to the database: {error!r}", error) from error


def _unavailable_as_operational_error(context: ExceptionContext) -> BaseException | None:
    """asyncpg reports a server that shuts down, is starting up or drops the connection as a generic error
    (SQLSTATE 57P01, 57P03, 08003, …) and a lost socket as a bare OSError. Raise those as OperationalError, as
    psycopg does: the error handler answers 503 for it, and callers can tell "unavailable" from "wrong"."""
    if connection_lost(context.original_exception):
        context.is_disconnect = True  # drop it now: rolling back on a dead connection only fails again
    if isinstance(context.sqlalchemy_exception, OperationalError | InterfaceError):
        return None
    if not is_unavailable(context.original_exception):
        return None
    return OperationalError(
        context.statement,
        context.parameters,
        context.original_exception,
        hide_parameters=True,
        connection_invalidated=context.is_disconnect,
    )


# Our adaptations of the stock drivers (app/core/sqlite_driver.py, app/core/pg_driver.py), used whenever the
# configured URL names the stock one.
OUR_DIALECTS = {"sqlite+aiosqlite": sqlite_driver.DRIVER_NAME, "postgresql+asyncpg": pg_driver.DRIVER_NAME}


def with_our_dialect(database_url: str) -> str:
    """The engine's URL: our dialect in place of the stock one it adapts (any other URL unchanged)."""
    url = make_url(database_url)
    ours = OUR_DIALECTS.get(url.drivername)
    return database_url if ours is None else url.set(drivername=ours).render_as_string(hide_password=False)


def make_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        path = settings.database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            with_our_dialect(settings.database_url), connect_args={"timeout": sqlite_driver.BUSY_TIMEOUT_S}
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "savepoint", _sqlite_begin_before_savepoint)
        return engine
    engine = create_async_engine(
        with_our_dialect(settings.database_url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        # No ping as a connection leaves the pool: it cost three round trips per request (BEGIN, ping, ROLLBACK).
        # After a database restart the first statement on a dead connection fails as a disconnect, which drops
        # every connection older than it (SQLAlchemy invalidates the pool), so one request answers 503 and the
        # next ones get fresh connections (tests/core/test_db_outage.py). Recycling after 30 minutes keeps a
        # firewall's idle timeout from cutting connections under us.
        pool_recycle=1800,
    )
    event.listen(engine.sync_engine, "do_connect", _connect_or_operational_error)
    event.listen(engine.sync_engine, "handle_error", _unavailable_as_operational_error)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session per unit of work: committed at the end, rolled back on any error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            # Detached first, so what was loaded (the signed-in user) stays readable for the error page that
            # follows; a rollback would expire it, and a closed session cannot load it again.
            session.expunge_all()
            await session.rollback()
            raise


def upsert_insert(session: AsyncSession) -> Any:
    """The dialect's `insert` (SQLite or PostgreSQL), the one that offers ON CONFLICT."""
    return _postgresql_insert if _dialect(session) == "postgresql" else _sqlite_insert


def _dialect(session: AsyncSession) -> str:
    return "postgresql" if session.bind is not None and session.bind.dialect.name == "postgresql" else "sqlite"


# Upserts are built once per table, columns and dialect and then only executed with new values: building one per
# call (ON CONFLICT's `excluded` columns and SQLAlchemy's cache key for a new statement) cost more than running it
# on the hot paths (0.7 ms per counter table on every submission). Statements are immutable, so sharing is safe.
@lru_cache(maxsize=256)
def _upsert(model: type[Base], dialect: str, conflict: tuple[str, ...], update: tuple[str, ...]) -> Any:
    insert = _postgresql_insert if dialect == "postgresql" else _sqlite_insert
    # The table, not the mapped class: a Core statement, so a single row reports its rowcount (an ORM insert
    # executed with parameters is a "bulk" insert, which does not).
    statement = insert(model.__table__)
    if update:
        return statement.on_conflict_do_update(
            index_elements=list(conflict), set_={column: statement.excluded[column] for column in update}
        )
    return statement.on_conflict_do_nothing(index_elements=list(conflict))


@lru_cache(maxsize=256)
def _increment(model: type[Base], dialect: str, keys: tuple[str, ...], deltas: tuple[str, ...]) -> Any:
    insert = _postgresql_insert if dialect == "postgresql" else _sqlite_insert
    table = model.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: table.c[name] + statement.excluded[name] for name in deltas}
    )


async def insert_or_update(
    session: AsyncSession,
    model: type[Base],
    *,
    values: dict[str, Any],
    conflict_columns: list[str],
    update_columns: list[str] | None = None,
) -> int:
    """INSERT … ON CONFLICT DO UPDATE (or DO NOTHING when update_columns is empty), on SQLite and PostgreSQL.
    Returns the row count: with DO NOTHING, 1 when the row was inserted and 0 when it already existed."""
    statement = _upsert(model, _dialect(session), tuple(conflict_columns), tuple(update_columns or ()))
    result = await session.execute(statement, values)
    return int(getattr(result, "rowcount", 0) or 0)


async def increment(session: AsyncSession, model: type[Base], *, keys: dict[str, Any], deltas: dict[str, int]) -> None:
    """Add to counters in one statement: INSERT the row, or on conflict add the deltas to the stored values.
    Atomic under concurrency on both SQLite and PostgreSQL."""
    await increment_many(session, model, keys=list(keys), deltas=list(deltas), rows=[{**keys, **deltas}])


async def insert_or_update_many(
    session: AsyncSession,
    model: type[Base],
    *,
    rows: list[dict[str, Any]],
    conflict_columns: list[str],
    update_columns: list[str],
) -> None:
    """insert_or_update for many rows with one statement executed as a batch (executemany): one round trip and
    one compiled statement instead of one per row."""
    if not rows:
        return
    statement = _upsert(model, _dialect(session), tuple(conflict_columns), tuple(update_columns))
    await session.execute(statement, rows)


async def increment_many(
    session: AsyncSession, model: type[Base], *, keys: list[str], deltas: list[str], rows: list[dict[str, Any]]
) -> None:
    """increment() for many counters at once. Rows with the same key are added up first, and the batch is sent
    in key order, so two transactions touching the same counters lock them in the same order (no deadlock)."""
    totals: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[name] for name in keys)
        total = totals.setdefault(key, {**{name: row[name] for name in keys}, **dict.fromkeys(deltas, 0)})
        for name in deltas:
            total[name] += row[name]
    if not totals:
        return
    statement = _increment(model, _dialect(session), tuple(keys), tuple(deltas))
    await session.execute(statement, [totals[key] for key in sorted(totals, key=repr)])
