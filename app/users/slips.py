"""Printed password slips, in two steps: the admin confirms a list (and is told whose valid links it replaces),
then prints it once. Only the people on the confirmed list get a new link; nobody else's link changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import User
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.org import service as org_service
from app.users.links import IssuedLink, issue_password_link, lock_people, valid_links, valid_links_until
from app.users.models import SlipBatch

MAX_PER_BATCH = 1000
# The confirmation describes the links as they were; after this long the admin confirms again.
CONFIRMATION_VALID = timedelta(hours=1)
FORGOTTEN_AFTER = timedelta(days=1)


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


async def _people(session: AsyncSession, user_ids: list[int]) -> list[SlipPerson]:
    users = list(
        await session.scalars(
            select(User).where(User.id.in_(user_ids), User.is_active.is_(True)).order_by(User.employee_number, User.id)
        )
    )
    paths = await org_service.department_paths(session)
    links = await valid_links_until(session, user_ids=[user.id for user in users])
    return [SlipPerson(user, paths.get(user.department_id or 0), links.get(user.id)) for user in users]


async def confirm_slips(session: AsyncSession, *, actor: User, user_ids: list[int]) -> SlipPlan:
    """Step 1: the chosen people (active ones only) and whose valid links printing would replace. Writes only
    the batch (with each person's valid link as seen now); no link changes yet."""
    chosen = sorted(set(user_ids))
    if len(chosen) > MAX_PER_BATCH:
        raise InvalidInput(
            f"一度に印刷できるのは {MAX_PER_BATCH:,} 人までです({len(chosen):,} 人を選んでいます)。"
            "部署で絞り込んでから選んでください。"
        )
    people = await _people(session, chosen)
    if not people:
        raise InvalidInput("印刷する社員を選んでください(無効なユーザーは選べません)。")
    # Confirmations nobody printed are of no use after their hour: they go as new ones are made.
    await session.execute(delete(SlipBatch).where(SlipBatch.created_at < utcnow() - FORGOTTEN_AFTER))
    seen = await valid_links(session, user_ids=[person.user.id for person in people])
    batch = SlipBatch(
        created_by_id=actor.id,
        user_ids=[person.user.id for person in people],
        links_seen={str(user_id): token.id for user_id, token in seen.items()},
    )
    session.add(batch)
    await session.flush()
    return SlipPlan(batch, people)


def _changed_since_confirmation(batch: SlipBatch, people: list[SlipPerson], now_valid: dict[int, int]) -> str | None:
    """Why printing this batch now would do something its confirmation did not say, or None."""
    left = [p for p in batch.user_ids if p not in {person.user.id for person in people}]
    if left:
        return "確認したあとに無効になった人がいます。もう一度、印刷する人を選んで確認してください。"
    different = [
        person.user.display_name
        for person in people
        if now_valid.get(person.user.id) not in (None, batch.links_seen.get(str(person.user.id)))
    ]
    if different:
        return (
            "確認したあとに、次の人へ別のリンクが発行されました: "
            + "、".join(different)
            + "。もう一度、印刷する人を選んで確認してください。"
        )
    return None


async def print_slips(
    session: AsyncSession, *, actor: User, batch_id: int, settings: Settings
) -> list[tuple[IssuedLink, str | None]]:
    """Step 2: a fresh link for each person on the confirmed list, exactly once per batch, and only if nobody's
    links changed since the confirmation (which named whose links this replaces)."""
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
    # Claim first: on SQLite this takes the write lock, on PostgreSQL the people's rows are locked next, so no
    # other request can give them a link between the check below and the new links.
    claimed = await session.execute(
        update(SlipBatch)
        .where(SlipBatch.id == batch.id, SlipBatch.printed_at.is_(None))
        .values(printed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # printed meanwhile by the same admin in another tab or worker
        raise Conflict("この設定票はすでに作成済みです。もう一度、印刷する人を選んでください。")
    await lock_people(session, user_ids=batch.user_ids)
    people = await _people(session, batch.user_ids)
    now_valid = {user_id: token.id for user_id, token in (await valid_links(session, user_ids=batch.user_ids)).items()}
    problem = _changed_since_confirmation(batch, people, now_valid)
    if problem:
        raise Conflict(problem)
    replaced = [person.user.id for person in people if person.user.id in now_valid]
    slips = [
        (await issue_password_link(session, actor=actor, user=p.user, settings=settings, mail=False), p.department)
        for p in people
    ]
    await audit.record(
        session,
        actor=actor,
        action="user.password_slips",
        target_type="slip_batch",
        target_id=batch.id,
        summary=f"パスワード設定票を {len(slips)} 枚作成(以前のリンクを無効にした人: {len(replaced)} 人)",
        details={"user_ids": [p.user.id for p in people], "replaced_user_ids": replaced},
    )
    return slips
