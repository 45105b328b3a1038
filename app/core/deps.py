"""Request-scoped dependencies every domain uses: the database session (one unit of work per request) and the
settings. Who is signed in is app/auth/deps.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import session_scope


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    # `async with`, not `async for`: an error in the route must reach the unit of work, so it rolls back
    # before the error page is rendered, not whenever the abandoned generator is garbage-collected.
    async with asynccontextmanager(session_scope)(request.app.state.sessionmaker) as session:
        yield session


# scope="function": commit when the route returns, before the response is sent. By default FastAPI runs this
# exit after sending, so a failed COMMIT could follow a 303 that already told the learner it was saved.
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]


async def get_settings_dep(request: Request) -> Settings:
    # async, though it awaits nothing: FastAPI runs a plain `def` dependency on a thread pool, a hand-off per request
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
