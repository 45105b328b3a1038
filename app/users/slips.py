"""Printed password slips, in two steps: the admin confirms a list (and is told whose valid links it replaces),
then prints it once. Only the people on the confirmed list get a new link; nobody else's link changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import User
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.users import service
from app.users.links import IssuedLink, issue_password_link
from app.users.models import PasswordSetToken, SlipBatch

MAX_PER_BATCH = 1000
# The confirmation describes the links as they were; after this long the admin confirms again.
CONFIRMATION_VALID = timedelta(hours=1)


@dataclass
class SlipPerson:
    user: User
    department: str | None
    link_valid_until: datetime | None  # the person's current link, which a new slip would replace


@dataclass
class SlipPlan:
    batch: SlipBatch
    people: list[SlipPerson]

    @property
    def replaced(self) -> list[SlipPerson]:
        return [person for person in self.people if person.link_valid_until is not None]


async def valid_links_until(session: AsyncSession, *, user_ids: list[int]) -> dict[int, datetime]:
    """For each of these people who holds a link that still works: when it expires."""
    if not user_ids:
        return {}
    rows = await session.execute(
        select(PasswordSetToken.user_id, func.max(PasswordSetToken.expires_at))
        .where(
            PasswordSetToken.user_id.in_(user_ids),
            PasswordSetToken.used_at.is_(None),
            PasswordSetToken.expires_at > utcnow(),
        )
        .group_by(PasswordSetToken.user_id)
    )
    return {user_id: expires_at for user_id, expires_at in rows}


async def _people(session: AsyncSession, user_ids: list[int]) -> list[SlipPerson]:
    users = list(
        await session.scalars(
            select(User).where(User.id.in_(user_ids), User.is_active.is_(True)).order_by(User.employee_number, User.id)
        )
    )
    paths = await service.department_paths(session)
    links = await valid_links_until(session, user_ids=[user.id for user in users])
    return [SlipPerson(user, paths.get(user.department_id or 0), links.get(user.id)) for user in users]


async def confirm_slips(session: AsyncSession, *, actor: User, user_ids: list[int]) -> SlipPlan:
    """Step 1: the chosen people (active ones only) and whose valid links printing would replace. Writes only
    the batch; no link changes yet."""
    chosen = sorted(set(user_ids))
    if len(chosen) > MAX_PER_BATCH:
        raise InvalidInput(
            f"一度に印刷できるのは {MAX_PER_BATCH:,} 人までです({len(chosen):,} 人を選んでいます)。"
            "部署で絞り込んでから選んでください。"
        )
    people = await _people(session, chosen)
    if not people:
        raise InvalidInput("印刷する社員を選んでください(無効なユーザーは選べません)。")
    batch = SlipBatch(
        created_by_id=actor.id,
        user_ids=[person.user.id for person in people],
        replaces_user_ids=[person.user.id for person in people if person.link_valid_until is not None],
    )
    session.add(batch)
    await session.flush()
    return SlipPlan(batch, people)


async def print_slips(
    session: AsyncSession, *, actor: User, batch_id: int, settings: Settings
) -> list[tuple[IssuedLink, str | None]]:
    """Step 2: a fresh link for each person on the confirmed list, exactly once per batch."""
    batch = await session.get(SlipBatch, batch_id)
    if batch is None or batch.created_by_id != actor.id:
        raise NotFound("この設定票の確認画面が見つかりません。もう一度、印刷する人を選んでください。")
    if batch.printed_at is not None:
        raise Conflict(
            "この設定票はすでに作成済みです。作り直すと、印刷した設定票のリンクが使えなくなるため、"
            "再読み込みでは作り直しません。作り直すときは、もう一度印刷する人を選んでください。"
        )
    if utcnow() - batch.created_at > CONFIRMATION_VALID:
        raise Conflict("確認してから1時間以上たちました。もう一度、印刷する人を選んで確認してください。")
    people = await _people(session, batch.user_ids)
    newly_replaced = [
        p.user.display_name
        for p in people
        if p.link_valid_until is not None and p.user.id not in batch.replaces_user_ids
    ]
    if newly_replaced:
        raise Conflict(
            "確認したあとに、次の人へ別のリンクが発行されました: "
            + "、".join(newly_replaced)
            + "。もう一度、印刷する人を選んで確認してください。"
        )
    claimed = await session.execute(
        update(SlipBatch)
        .where(SlipBatch.id == batch.id, SlipBatch.printed_at.is_(None))
        .values(printed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # printed meanwhile by the same admin in another tab or worker
        raise Conflict("この設定票はすでに作成済みです。もう一度、印刷する人を選んでください。")
    slips = [
        (await issue_password_link(session, actor=actor, user=p.user, settings=settings, mail=False), p.department)
        for p in people
    ]
    replaced = sum(1 for p in people if p.link_valid_until is not None)
    await audit.record(
        session,
        actor=actor,
        action="user.password_slips",
        target_type="slip_batch",
        target_id=batch.id,
        summary=f"パスワード設定票を {len(slips)} 枚作成(以前のリンクを無効にした人: {replaced} 人)",
        details={"user_ids": [p.user.id for p in people], "replaced_user_ids": batch.replaces_user_ids},
    )
    return slips
