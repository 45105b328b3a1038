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

- a write transaction first takes this process's write gate for the database file (an asyncio lock, first come
  first served), so the process's writers queue on the event loop and each starts the moment the one before it
  ends. SQLite has one write lock; without the gate every waiting writer sat in SQLite's busy handler on its own
  thread, sleeping 1, 2, 5 … up to 100 ms between tries, so under load most of a submission's time was sleep
  and the slowest waited seconds (the exam-start herd, docs/performance.md). Other processes (the command line,
  a second worker) still meet the busy handler, as before; waiting for the gate is bounded by the same timeout.

The sqlite3 connection is opened with `check_same_thread=False`. That is safe here because a connection is used by
one unit of work at a time and its calls are awaited one after another: an inline call never overlaps a call on
the thread (and when the connection's mutex is held, the statement takes the thread as usual).
"""

from __future__ import annotations

import asyncio
import collections
import sqlite3
import weakref
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


# How long a writer waits for SQLite's write lock (PRAGMA busy_timeout, set at connect) and for the gate before it.
BUSY_TIMEOUT_S = 15
# The statements before which sqlite3 opens a write transaction by itself, and our explicit BEGIN IMMEDIATE.
_WRITE_STARTS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN")


def starts_write_transaction(operation: str) -> bool:
    return operation.lstrip()[:7].upper().startswith(_WRITE_STARTS)


class WriteGate:
    """One writer at a time per database file in this process: the lock and which connection holds it."""

    __slots__ = ("holder", "lock")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.holder: FewerTripsConnection | None = None


# Per event loop (an asyncio lock belongs to one), then per database file.
_GATES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, WriteGate]] = weakref.WeakKeyDictionary()


def write_gate(database: str) -> WriteGate:
    gates = _GATES.setdefault(asyncio.get_running_loop(), {})
    gate = gates.get(database)
    if gate is None:
        gate = gates[database] = WriteGate()
    return gate


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
        connection = self._adapt_connection
        await connection.enter_gate_before(operation)
        try:
            async with connection._execute_mutex:
                rows = await self._connection._execute(_execute_and_fetch, self._cursor._cursor, operation, parameters)
        finally:
            connection.leave_gate_if_done()
        self._keep(rows)
        return self._cursor

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        connection = self._adapt_connection
        await connection.enter_gate_before(operation)
        try:
            return await super()._executemany_async(operation, seq_of_parameters)
        finally:
            connection.leave_gate_if_done()

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
    __slots__ = ("_database", "_gate")

    _cursor_cls = FewerTripsCursor

    def __init__(self, dbapi: Any, connection: Any, database: str) -> None:
        super().__init__(dbapi, connection)
        self._database = database
        self._gate: WriteGate | None = None  # the write gate, while this connection holds it

    def _in_transaction(self) -> bool:
        raw = self._connection._connection
        return raw is not None and raw.in_transaction

    async def enter_gate_before(self, operation: str) -> None:
        """Before a statement that opens a write transaction, wait for this process's other writers to finish."""
        if self._gate is not None or self._in_transaction() or not starts_write_transaction(operation):
            return
        gate = write_gate(self._database)
        try:
            async with asyncio.timeout(BUSY_TIMEOUT_S):
                await gate.lock.acquire()
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None  # as SQLite's busy handler says
        gate.holder, self._gate = self, gate

    def leave_gate_if_done(self) -> None:
        """Once the write transaction has ended (committed, rolled back, or never begun), let the next writer in."""
        if self._gate is not None and not self._in_transaction():
            self._release_gate()

    def _release_gate(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None and gate.holder is self:
            gate.holder = None
            gate.lock.release()

    def commit(self) -> None:
        try:
            if self._in_transaction():
                super().commit()
        finally:
            self.leave_gate_if_done()

    def rollback(self) -> None:
        try:
            if self._in_transaction():
                super().rollback()
        finally:
            self.leave_gate_if_done()

    def close(self) -> None:
        self._release_gate()
        super().close()

    def terminate(self) -> None:
        self._release_gate()
        super().terminate()


class FewerTripsDBAPI(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> FewerTripsConnection:
        kw["check_same_thread"] = False
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's own adapter does: never keep the process alive
        database = str(arg[0] if arg else kw.get("database", ""))
        return FewerTripsConnection(self, await_(connection), database)


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
