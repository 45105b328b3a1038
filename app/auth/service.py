"""Users, passwords and server-side sessions."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from pwdlib import PasswordHash
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User, UserSession
from app.core.db import utcnow
from app.core.errors import Conflict

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
