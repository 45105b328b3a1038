"""Sign-in throttling, per account and per client address, shared by every worker through the database.

The account key is the hash of what was typed as the login, whether or not such an account exists, so the
lockout says nothing about which accounts exist (and a password typed into the wrong box is never stored).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.identifiers import normalise_login, token_hash
from app.auth.models import SignInFailure
from app.core.config import Settings

ACCOUNT = "account"
ADDRESS = "address"


def account_key(login: str) -> str:
    return token_hash(normalise_login(login)[1])


def address_key(address: str | None) -> str:
    return token_hash(address or "unknown")


async def _failures(session: AsyncSession, *, kind: str, key: str, since: datetime) -> int:
    count = await session.scalar(
        select(func.count(SignInFailure.id)).where(
            SignInFailure.kind == kind, SignInFailure.key == key, SignInFailure.at > since
        )
    )
    return count or 0


async def is_throttled(
    session: AsyncSession, *, login: str, address: str | None, settings: Settings, now: datetime
) -> bool:
    """True when this account or this address failed too often within the window."""
    since = now - timedelta(minutes=settings.sign_in_window_minutes)
    by_account = await _failures(session, kind=ACCOUNT, key=account_key(login), since=since)
    if by_account >= settings.sign_in_max_failures_per_account:
        return True
    by_address = await _failures(session, kind=ADDRESS, key=address_key(address), since=since)
    return by_address >= settings.sign_in_max_failures_per_address


async def record_failure(
    session: AsyncSession, *, login: str, address: str | None, settings: Settings, now: datetime
) -> None:
    """Count one failure against the account and the address, and forget failures too old to matter."""
    session.add_all(
        [
            SignInFailure(kind=ACCOUNT, key=account_key(login), at=now),
            SignInFailure(kind=ADDRESS, key=address_key(address), at=now),
        ]
    )
    await session.execute(
        delete(SignInFailure).where(SignInFailure.at < now - timedelta(minutes=settings.sign_in_window_minutes * 4))
    )
    await session.flush()


async def clear_account(session: AsyncSession, *, login: str) -> None:
    """A successful sign-in wipes the account's failures (not the address's: one good password on a shared
    address must not reopen guessing against other accounts)."""
    await session.execute(
        delete(SignInFailure).where(SignInFailure.kind == ACCOUNT, SignInFailure.key == account_key(login))
    )
