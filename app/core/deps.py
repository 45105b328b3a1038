"""Request-scoped dependencies: the database session and the signed-in user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.auth.models import Role, User
from app.core.config import Settings
from app.core.db import session_scope
from app.core.errors import AppError, Forbidden

SESSION_COOKIE = "lms_session"


class NotSignedIn(AppError):
    status_code = 401
    message = "サインインしてください。"


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    # `async with`, not `async for`: an error in the route must reach the unit of work, so it rolls back
    # before the error page is rendered, not whenever the abandoned generator is garbage-collected.
    async with asynccontextmanager(session_scope)(request.app.state.sessionmaker) as session:
        yield session


# scope="function": commit when the route returns, before the response is sent. By default FastAPI runs this
# exit after sending, so a failed COMMIT could follow a 303 that already told the learner it was saved.
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def cookie_serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.resolved_secret_key(), salt="lms-session")


def session_token(request: Request, settings: Settings) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        token = cookie_serializer(settings).loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


async def optional_user(request: Request, db: SessionDep, settings: SettingsDep) -> User | None:
    token = session_token(request, settings)
    user = None
    if token:
        user = await auth_service.user_for_token(
            db, token=token, idle_hours=settings.session_hours, absolute_hours=settings.session_absolute_hours
        )
        if user is None:
            # An expired session's row was just deleted; nothing else has been written yet in this request, and
            # the redirect to sign-in that usually follows is an exception that would roll the deletion back.
            await db.commit()
    request.state.user = user
    return user


async def require_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise NotSignedIn()
    return user


CurrentUser = Annotated[User, Depends(require_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]


def require_role(*roles: Role):
    async def check(user: CurrentUser) -> User:
        if user.role not in {role.value for role in roles}:
            raise Forbidden()
        return user

    return check
