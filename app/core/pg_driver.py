"""PostgreSQL through asyncpg, with the transaction opened at the first statement that needs one.

SQLAlchemy's asyncpg adapter sends BEGIN before a connection's first statement and COMMIT at the end, so a page
that only reads pays four round trips for two queries (and `pool_pre_ping` added three more per request: BEGIN,
a ping, ROLLBACK). Profiled on the signed-in lesson page (docs/performance.md, issue 16), the event loop spent a
quarter of its time waiting on those.

Here a plain SELECT before anything else in the unit of work runs without BEGIN; the transaction starts at the
first statement that is not a plain read (INSERT, UPDATE, DELETE, a SAVEPOINT, a `SELECT … FOR UPDATE` or
`FOR SHARE`, a CTE) and from then on everything runs in it, as before. This changes nothing that anything can
see: at READ COMMITTED, our isolation level, every statement takes a fresh snapshot whether or not a transaction
is open, and a plain SELECT takes no lock that outlives it. It is also what the sqlite3 driver has always done
(it opens a transaction only before a write), so both databases now behave alike.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.asyncpg import (
    AsyncAdapt_asyncpg_connection,
    AsyncAdapt_asyncpg_cursor,
    AsyncAdapt_asyncpg_dbapi,
    PGDialect_asyncpg,
)
from sqlalchemy.util.concurrency import await_

DRIVER_NAME = "postgresql+lms_asyncpg"  # make_engine puts it in place of postgresql+asyncpg
_ROW_LOCK = re.compile(r"\bFOR\s+(UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b", re.IGNORECASE)


def needs_transaction(statement: str) -> bool:
    """False only for a plain SELECT: anything that writes, locks rows or might do either opens the transaction."""
    return statement.lstrip()[:6].upper() != "SELECT" or _ROW_LOCK.search(statement) is not None


class LateBeginCursor(AsyncAdapt_asyncpg_cursor):
    __slots__ = ()

    async def _prepare_and_execute(self, operation: Any, parameters: Any) -> None:
        connection = self._adapt_connection
        connection.begin_now = connection._transaction is not None or needs_transaction(operation)
        await super()._prepare_and_execute(operation, parameters)


class LateBeginConnection(AsyncAdapt_asyncpg_connection):
    __slots__ = ("begin_now",)
    _cursor_cls = LateBeginCursor

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.begin_now = True  # executemany and server-side cursors always begin, as the stock adapter does

    async def _start_transaction(self) -> None:
        begin, self.begin_now = self.begin_now, True
        if begin:
            await super()._start_transaction()


class LateBeginDBAPI(AsyncAdapt_asyncpg_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> LateBeginConnection:
        creator_fn = kw.pop("async_creator_fn", self.asyncpg.connect)
        cache_size = kw.pop("prepared_statement_cache_size", 100)
        name_func = kw.pop("prepared_statement_name_func", None)
        return await_(
            LateBeginConnection.create(
                self,
                creator_fn(*arg, **kw),
                prepared_statement_cache_size=cache_size,
                prepared_statement_name_func=name_func,
            )
        )


class LateBeginDialect(PGDialect_asyncpg):
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> LateBeginDBAPI:
        return LateBeginDBAPI(__import__("asyncpg"))


registry.register("postgresql.lms_asyncpg", __name__, "LateBeginDialect")
