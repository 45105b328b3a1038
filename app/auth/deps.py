"""Who is signed in: the session cookie, the signed-in user as a dependency, role checks, and starting a browser
session after a successful sign-in (password, one-time link, and later a company's identity provider)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.auth.models import Role, User
from app.core.config import Settings
from app.core.deps import SessionDep
from app.core.errors import Forbidden, NotSignedIn

SESSION_COOKIE = "lms_session"


def cookie_serializer(settings: Settings) -> URLSafeSerializer:
    return _serializer(settings.resolved_secret_key())


@lru_cache(maxsize=8)
def _serializer(secret_key: str) -> URLSafeSerializer:
    # Built once per key: it is immutable, and every signed-in request reads the cookie through it.
    return URLSafeSerializer(secret_key, salt="lms-session")


def session_token(request: Request, settings: Settings) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        token = cookie_serializer(settings).loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


async def signed_in_user(request: Request, db: AsyncSession) -> User | None:
    settings: Settings = request.app.state.settings
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


# Two flat dependencies rather than one built on the other: FastAPI resolves every level of nesting on every
# request, and each level measured tens of microseconds on the signed-in pages.
async def optional_user(request: Request, db: SessionDep) -> User | None:
    return await signed_in_user(request, db)


async def require_user(request: Request, db: SessionDep) -> User:
    user = await signed_in_user(request, db)
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


require_admin = require_role(Role.ADMIN)
# The one admin check: as a parameter, or as a router's `dependencies=[Depends(require_admin)]`.
AdminUser = Annotated[User, Depends(require_admin)]


async def start_browser_session(
    request: Request, db: AsyncSession, settings: Settings, *, user: User, target: str
) -> Response:
    """Sign the browser in with a fresh session (never the one it came with) and send it to `target`."""
    old_token = session_token(request, settings)
    if old_token:
        await auth_service.end_session(db, token=old_token)
    token = await auth_service.start_session(db, user=user)
    response = RedirectResponse(target, status_code=303)
    secure = settings.cookie_secure if settings.cookie_secure is not None else request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        cookie_serializer(settings).dumps(token),
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=settings.session_hours * 3600,
    )
    return response
