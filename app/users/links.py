"""One-time password links: issued by an admin (on screen, by mail, or on printed slips), redeemed exactly once.

Only a hash of each link's token is stored; issuing a new link, or deactivating the person, ends the older ones.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import service as auth_service
from app.auth.identifiers import token_hash
from app.auth.models import User
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.mail import service as mail_service
from app.users.models import PasswordSetToken

LINK_DAYS = 14


@dataclass
class IssuedLink:
    user: User
    url: str
    expires_at: datetime
    mailed: bool


async def valid_links(session: AsyncSession, *, user_ids: list[int]) -> dict[int, PasswordSetToken]:
    """For each of these people who holds a link that still works, that link (the newest, if several)."""
    if not user_ids:
        return {}
    tokens = await session.scalars(
        select(PasswordSetToken)
        .where(
            PasswordSetToken.user_id.in_(user_ids),
            PasswordSetToken.used_at.is_(None),
            PasswordSetToken.expires_at > utcnow(),
        )
        .order_by(PasswordSetToken.id)
    )
    return {token.user_id: token for token in tokens}


async def valid_links_until(session: AsyncSession, *, user_ids: list[int]) -> dict[int, datetime]:
    """For each of these people who holds a link that still works: when it expires."""
    return {user_id: token.expires_at for user_id, token in (await valid_links(session, user_ids=user_ids)).items()}


async def lock_people(session: AsyncSession, *, user_ids: list[int]) -> None:
    """Hold these people's rows until the transaction ends (PostgreSQL; SQLite has one writer anyway), so two
    requests that change their links run one after the other, never both on what they read before."""
    if user_ids:
        await session.execute(select(User.id).where(User.id.in_(user_ids)).order_by(User.id).with_for_update())


async def expire_links(session: AsyncSession, *, user_id: int) -> None:
    await session.execute(
        update(PasswordSetToken)
        .where(PasswordSetToken.user_id == user_id, PasswordSetToken.used_at.is_(None))
        .values(expires_at=utcnow())
    )


async def issue_password_link(
    session: AsyncSession, *, actor: User | None, user: User, settings: Settings, mail: bool = True
) -> IssuedLink:
    """A new one-time link (older unused ones stop working); mailed through the outbox when the person has an
    e-mail address."""
    if not user.is_active:
        raise Conflict("無効なユーザーにはリンクを発行できません。先に有効にしてください。")
    await lock_people(session, user_ids=[user.id])
    await expire_links(session, user_id=user.id)
    token = secrets.token_urlsafe(24)
    expires_at = utcnow() + timedelta(days=LINK_DAYS)
    session.add(
        PasswordSetToken(
            user_id=user.id,
            token_hash=token_hash(token),
            created_by_id=actor.id if actor else None,
            expires_at=expires_at,
        )
    )
    url = f"{settings.base_url.rstrip('/')}/password/{token}"
    mailed = False
    if mail and user.email:
        body = (
            f"{user.display_name} さん\n\nカスハラ対策研修のパスワードを設定してください。次のリンクは1回だけ、"
            f"{expires_at:%Y年%m月%d日}まで使えます。\n\n{url}\n\n心当たりがない場合は、このメールを破棄してください。\n"
        )
        await mail_service.send(
            session,
            settings=settings,
            to_address=user.email,
            subject="【カスハラ対策研修】パスワードの設定",
            body=body,
            to_user_id=user.id,
        )
        mailed = True
    await session.flush()
    summary = f"{user.display_name} にパスワード設定リンクを発行" + ("(メール送信)" if mailed else "")
    await audit.record(
        session, actor=actor, action="user.password_link", target_type="user", target_id=user.id, summary=summary
    )
    return IssuedLink(user, url, expires_at, mailed)


async def user_for_link(session: AsyncSession, *, token: str) -> User | None:
    """The person a still-valid link belongs to, or None."""
    return await session.scalar(
        select(User)
        .join(PasswordSetToken, PasswordSetToken.user_id == User.id)
        .where(
            PasswordSetToken.token_hash == token_hash(token),
            PasswordSetToken.used_at.is_(None),
            PasswordSetToken.expires_at > utcnow(),
            User.is_active.is_(True),
        )
    )


async def redeem_link(session: AsyncSession, *, token: str, password: str) -> User:
    """Set the password through a link, exactly once: the claim is one conditional UPDATE, so two submissions
    racing on two workers cannot both succeed."""
    user = await user_for_link(session, token=token)
    if user is None:
        raise NotFound("このリンクは使えません(使用済みか期限切れです)。管理者に新しいリンクを依頼してください。")
    problem = auth_service.password_problem(password, user=user)
    if problem:
        raise InvalidInput(problem)
    claimed = await session.execute(
        update(PasswordSetToken)
        .where(PasswordSetToken.token_hash == token_hash(token), PasswordSetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise NotFound("このリンクはすでに使われました。")
    await auth_service.set_password(session, user=user, password=password)
    return user
