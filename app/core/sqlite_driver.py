"""SQLite through aiosqlite with fewer trips to its thread, and short reads that skip the thread altogether.

aiosqlite runs every call of the sqlite3 driver on a thread of its own: SQLAlchemy's adapter makes four trips per
statement (create the cursor, execute, fetch, close) and one more for each COMMIT and ROLLBACK, even when there is
no transaction to end. Each trip is a queue hand-off and a wake-up of the event loop, and under load the two
threads queue for the GIL: profiled on the signed-in lesson page, 45 % of the event loop's time went to handing
work to that thread for a page whose two statements take SQLite microseconds (docs/performance.md, issue 16).

This dialect is the stock `sqlite+aiosqlite` one with three changes:
- a cursor is created and closed on the calling thread (neither touches the database file), and executing a
  statement and fetching its rows is one trip instead of two;
- COMMIT and ROLLBACK with no transaction open (every read-only unit of work, and the pool's reset of a returned
  connection) are skipped, as sqlite3 itself would do nothing;
- a statement marked with the execution option `INLINE_READ` runs on the event loop's own thread. That is only for
  short reads by key on the hot paths (the session, the lesson page's one row, an attempt): in WAL mode a reader
  never waits for a writer, so such a read costs microseconds, far less than the trip. Writes, and any read that
  could take long, stay on the thread, so the loop never waits for SQLite's write lock.

The sqlite3 connection is opened with `check_same_thread=False`. That is safe here because a connection is used by
one unit of work at a time and its calls are awaited one after another: an inline call never overlaps a call on
the thread (and when the connection's mutex is held, the statement takes the thread as usual).
"""

from __future__ import annotations

import collections
from typing import Any

import aiosqlite
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    SQLiteDialect_aiosqlite,
)
from sqlalchemy.util.concurrency import await_

DRIVER_NAME = "sqlite+lms_aiosqlite"  # make_engine puts it in place of sqlite+aiosqlite
# Put on a statement (`stmt.execution_options(**INLINE_READ)`) to read it on the event loop's thread on SQLite;
# other databases ignore the option.
INLINE_READ = {"lms_inline_read": True}


def _execute_and_fetch(raw: Any, operation: Any, parameters: Any) -> list[Any] | None:
    """One statement on a sqlite3 cursor and its rows (None when it returns none), on whichever thread calls it."""
    raw.execute(operation, () if parameters is None else parameters)
    return raw.fetchall() if raw.description else None


class FewerTripsCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _make_new_cursor(self, connection: Any) -> Any:
        return aiosqlite.Cursor(connection, connection._conn.cursor())

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    def _keep(self, rows: list[Any] | None) -> None:
        if rows is not None:
            self._rows = collections.deque(rows)

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            self._keep(await self._connection._execute(_execute_and_fetch, self._cursor._cursor, operation, parameters))
        return self._cursor

    def execute_inline(self, operation: Any, parameters: Any) -> None:
        if self._adapt_connection._execute_mutex.locked():
            self.execute(operation, parameters)  # a call is in flight on the thread: never overlap it
            return
        try:
            self._keep(_execute_and_fetch(self._cursor._cursor, operation, parameters))
        except Exception as error:
            self._adapt_connection._handle_exception(error)

    async def _async_soft_close(self) -> None:
        self._soft_closed_memoized = self._soft_closed_memoized.union({"description": self._cursor.description})
        self._cursor._cursor.close()

    def close(self) -> None:
        self._rows.clear()
        if self._cursor is not None and not self._soft_closed_memoized:
            self._cursor._cursor.close()


class FewerTripsConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    _cursor_cls = FewerTripsCursor

    def _in_transaction(self) -> bool:
        raw = self._connection._connection
        return raw is not None and raw.in_transaction

    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()


class FewerTripsDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> FewerTripsConnection:
        kw["check_same_thread"] = False
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's own adapter does: never keep the process alive
        return FewerTripsConnection(self, await_(connection))


class FewerTripsDialect(SQLiteDialect_aiosqlite):
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> FewerTripsDBAPI:
        return FewerTripsDBAPI(aiosqlite, __import__("sqlite3"))

    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        if context is not None and context.execution_options.get("lms_inline_read"):
            cursor.execute_inline(statement, parameters)
        else:
            cursor.execute(statement, parameters)


registry.register("sqlite.lms_aiosqlite", __name__, "FewerTripsDialect")
