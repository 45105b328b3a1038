"""Users, passwords and server-side sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from pwdlib import PasswordHash
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import ApiToken, Role, User, UserSession
from app.core.db import utcnow
from app.core.errors import Conflict, NotFound

password_hash = PasswordHash.recommended()
# Verifying against a throw-away hash when the e-mail is unknown keeps both failure paths equally slow.
_DUMMY_HASH = password_hash.hash("not-a-real-password")
_TOUCH_INTERVAL = timedelta(minutes=5)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role = Role.LEARNER,
    department_id: int | None = None,
) -> User:
    """Create a user; Conflict when the e-mail is taken."""
    email = normalise_email(email)
    if await session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"{email} はすでに登録されています。")
    user = User(
        email=email,
        display_name=display_name,
        password_hash=password_hash.hash(password),
        role=role.value,
        department_id=department_id,
    )
    session.add(user)
    await session.flush()
    return user


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; upgrades an outdated hash on success."""
    user = await session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        password_hash.verify(password, _DUMMY_HASH)
        return None
    valid, updated_hash = password_hash.verify_and_update(password, user.password_hash)
    if not valid or not user.is_active:
        return None
    if updated_hash:
        user.password_hash = updated_hash
    return user


async def start_session(session: AsyncSession, *, user: User) -> str:
    """A fresh session token for the browser; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=_token_hash(token), user_id=user.id))
    await session.flush()
    return token


async def end_session(session: AsyncSession, *, token: str) -> None:
    await session.execute(delete(UserSession).where(UserSession.token_hash == _token_hash(token)))


async def user_for_token(session: AsyncSession, *, token: str, idle_hours: int) -> User | None:
    """The signed-in user, or None when the session is unknown, idle too long, or the user is deactivated."""
    row = (await session.execute(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == _token_hash(token))
    )).first()  # fmt: skip
    if row is None:
        return None
    user_session, user = row
    now = utcnow()
    if not user.is_active or now - user_session.last_seen_at > timedelta(hours=idle_hours):
        await session.delete(user_session)
        return None
    if now - user_session.last_seen_at > _TOUCH_INTERVAL:
        user_session.last_seen_at = now
    return user


async def find_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == normalise_email(email)))


async def create_api_token(session: AsyncSession, *, user: User, name: str) -> str:
    """A new API token; only its hash is stored, so the caller shows the token once."""
    token = "lms_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name.strip() or "API", token_hash=_token_hash(token)))
    await session.flush()
    return token


async def list_api_tokens(session: AsyncSession, *, user_id: int) -> list[ApiToken]:
    result = await session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc()))
    return list(result)


async def revoke_api_token(session: AsyncSession, *, user_id: int, token_id: int) -> None:
    token = await session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id))
    if token is None:
        raise NotFound("トークンが見つかりません。")
    token.revoked_at = token.revoked_at or utcnow()


async def user_for_api_token(session: AsyncSession, *, token: str) -> User | None:
    row = (await session.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _token_hash(token), ApiToken.revoked_at.is_(None), User.is_active.is_(True))
    )).first()  # fmt: skip
    if row is None:
        return None
    api_token, user = row
    if api_token.last_used_at is None or utcnow() - api_token.last_used_at > _TOUCH_INTERVAL:
        api_token.last_used_at = utcnow()
    return user
