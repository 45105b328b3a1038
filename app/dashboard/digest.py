"""The daily digest: each manager with an e-mail hears, once a day, how their part of the company stands in every
course where someone is overdue (no mail when nobody is). A scheduled job; managers are taken in id order with a
checkpoint, so a restarted run does not mail anyone twice."""

from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.content import service as content_service
from app.core.db import utcnow
from app.dashboard import service
from app.dashboard.roster import RosterFilter
from app.jobs.context import JobContext
from app.jobs.registry import JobKind, Schedule
from app.mail import service as mail_service
from app.org import service as org_service

CHUNK_SIZE = 50


async def digest_lines(session: AsyncSession, *, manager: User) -> list[str]:
    """One line per course with someone overdue in the manager's scope."""
    scope = await org_service.scope_for(session, user=manager)
    if scope.is_empty:
        return []
    now = utcnow()
    lines = []
    for course, version in await content_service.list_courses(session):
        figures = await service.headline(session, scope=scope, roster_filter=RosterFilter(course_id=course.id), now=now)
        if figures.overdue:
            lines.append(
                f"・{version.title}: 修了 {figures.completed}/{figures.assigned} 人"
                f"({figures.completion_rate:.0f}%)、期限超過 {figures.overdue} 人"
            )
    return lines


def compose(*, name: str, lines: list[str], link: str) -> tuple[str, str]:
    body = (
        f"{name} さん\n\n担当部署の受講状況です(期限を過ぎた人がいるコースだけをお知らせしています)。\n\n"
        + "\n".join(lines)
        + f"\n\n詳しくは受講状況の画面をご覧ください。督促もそこから送れます。\n{link}\n"
    )
    return "【受講状況のお知らせ】期限を過ぎた受講者がいます", body


async def send_digests(context: JobContext) -> dict[str, Any]:
    after = int(context.checkpoint.get("after_user_id", 0))
    sent = int(context.checkpoint.get("sent", 0))
    link = f"{context.settings.base_url.rstrip('/')}/dashboard"
    while True:
        async with context.transaction() as session:
            managers = list(
                await session.scalars(
                    select(User)
                    .where(User.role == Role.MANAGER.value, User.is_active.is_(True), User.email.is_not(None))
                    .where(User.id > after)
                    .order_by(User.id)
                    .limit(CHUNK_SIZE)
                )
            )
            if not managers:
                return {"sent": sent}
            messages = []
            for manager in managers:
                lines = await digest_lines(session, manager=manager)
                if lines:
                    subject, body = compose(name=manager.display_name, lines=lines, link=link)
                    messages.append(
                        mail_service.store(to_address=manager.email, subject=subject, body=body, to_user_id=manager.id)
                    )
            session.add_all(messages)
            await session.flush()
            await mail_service.deliver_later(
                session, settings=context.settings, message_ids=[m.id for m in messages], subject="受講状況のお知らせ"
            )
            after, sent = managers[-1].id, sent + len(messages)
            await context.step(session, checkpoint={"after_user_id": after, "sent": sent})


DAILY_DIGEST = JobKind(
    "dashboard.daily_digest", send_digests, max_attempts=5, label="マネージャーへの受講状況のお知らせ"
)
DIGEST_SCHEDULE = Schedule("manager-daily-digest", DAILY_DIGEST, daily_at=time(8, 0))
