"""Users, passwords and server-side sessions."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from pwdlib import PasswordHash
from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.identifiers import normalise_email, normalise_employee_number, normalise_login, token_hash
from app.auth.models import ApiToken, Role, User, UserSession
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.sqlite_driver import INLINE_READ

password_hash = PasswordHash.recommended()
# Verifying against a throw-away hash when the e-mail is unknown keeps both failure paths equally slow.
_DUMMY_HASH = password_hash.hash("not-a-real-password")
_TOUCH_INTERVAL = timedelta(minutes=5)
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
# Refused as new passwords: the most common ones in public breach lists, and the obvious ones for this product.
COMMON_PASSWORDS = frozenset(
    line.strip().lower()
    for line in (Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)


def password_problem(password: str, *, user: User | None = None) -> str | None:
    """Why a new password is refused, or None. Length over composition rules, after NIST SP 800-63B."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"パスワードは {MIN_PASSWORD_LENGTH} 文字以上にしてください。"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"パスワードは {MAX_PASSWORD_LENGTH} 文字以内にしてください。"
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) <= 2:
        return "よく使われる、または推測されやすいパスワードです。別のものにしてください。"
    if user is not None and lowered in {(user.email or "").lower(), (user.employee_number or "").lower()}:
        return "メールアドレスや社員番号をそのままパスワードにはできません。"
    return None


async def create_user(
    session: AsyncSession,
    *,
    email: str | None,
    password: str | None,
    display_name: str,
    role: Role = Role.LEARNER,
    department_id: int | None = None,
    employee_number: str | None = None,
) -> User:
    """Create a user; Conflict when the e-mail or employee number is taken. Without a password the person
    sets one through a one-time link."""
    email = normalise_email(email) if email else None
    employee_number = normalise_employee_number(employee_number) if employee_number else None
    if email is None and employee_number is None:
        raise InvalidInput("メールアドレスか社員番号のどちらかが必要です。")
    if email and await session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(f"{email} はすでに登録されています。")
    if employee_number and await session.scalar(select(User.id).where(User.employee_number == employee_number)):
        raise Conflict(f"社員番号 {employee_number} はすでに登録されています。")
    user = User(
        email=email,
        employee_number=employee_number,
        display_name=display_name,
        password_hash=password_hash.hash(password) if password else None,
        role=role.value,
        department_id=department_id,
    )
    session.add(user)
    await session.flush()
    return user


async def find_by_login(session: AsyncSession, *, login: str) -> User | None:
    """The account for what someone typed in the sign-in box: an e-mail address, or else an employee number."""
    kind, value = normalise_login(login)
    column = User.email if kind == "email" else User.employee_number
    return await session.scalar(select(User).where(column == value))


async def authenticate(session: AsyncSession, *, login: str, password: str) -> User | None:
    """The active user with these credentials, or None; upgrades an outdated hash on success."""
    user = await find_by_login(session, login=login)
    if user is None or user.password_hash is None:
        password_hash.verify(password, _DUMMY_HASH)
        return None
    valid, updated_hash = password_hash.verify_and_update(password, user.password_hash)
    if not valid or not user.is_active:
        return None
    if updated_hash:
        user.password_hash = updated_hash
    return user


async def set_password(session: AsyncSession, *, user: User, password: str) -> None:
    """Store a new password and sign the person out everywhere else."""
    user.password_hash = password_hash.hash(password)
    await end_all_sessions(session, user_id=user.id)


async def end_all_sessions(session: AsyncSession, *, user_id: int) -> None:
    await session.execute(delete(UserSession).where(UserSession.user_id == user_id))


async def start_session(session: AsyncSession, *, user: User) -> str:
    """A fresh session token for the browser; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=token_hash(token), user_id=user.id))
    await session.flush()
    return token


async def end_session(session: AsyncSession, *, token: str) -> None:
    await session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))


# Every signed-in request runs this: built once, since building it per request costs SQLAlchemy more (its cache
# key) than running it does. The session row comes back as columns, not as an object: loading it costs more than
# the read, and it is only checked; in the rare request that must change it (expired, or unseen for a while) it is
# loaded then.
SESSION_WITH_USER = (
    select(User, UserSession.token_hash, UserSession.created_at, UserSession.last_seen_at)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == bindparam("token_hash"))
    .execution_options(**INLINE_READ)  # by unique key, on every signed-in request
)


async def user_for_token(
    session: AsyncSession, *, token: str, idle_hours: int, absolute_hours: int | None = None
) -> User | None:
    """The signed-in user, or None when the session is unknown, idle too long, older than `absolute_hours`
    however active, or the user is deactivated."""
    row = (await session.execute(SESSION_WITH_USER, {"token_hash": token_hash(token)})).first()
    if row is None:
        return None
    user, session_key, created_at, last_seen_at = row
    now = utcnow()
    too_old = absolute_hours is not None and now - created_at > timedelta(hours=absolute_hours)
    expired = not user.is_active or too_old or now - last_seen_at > timedelta(hours=idle_hours)
    if expired or now - last_seen_at > _TOUCH_INTERVAL:
        # Changed through the object, so the write waits for the unit of work's flush: an UPDATE here would take
        # SQLite's write lock for the rest of the request.
        user_session = await session.get_one(UserSession, session_key)
        if expired:
            await session.delete(user_session)
            return None
        user_session.last_seen_at = now
    return user


async def create_api_token(session: AsyncSession, *, user: User, name: str) -> str:
    """A new API token; only its hash is stored, so the caller shows the token once."""
    token = "lms_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name.strip() or "API", token_hash=token_hash(token)))
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
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None), User.is_active.is_(True))
        )
    ).first()
    if row is None:
        return None
    api_token, user = row
    if api_token.last_used_at is None or utcnow() - api_token.last_used_at > _TOUCH_INTERVAL:
        api_token.last_used_at = utcnow()
    return user
