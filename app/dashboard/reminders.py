"""督促: reminding employees in scope who have not finished, through the mail service, each one logged."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.content.models import Course, CourseVersion
from app.core.config import Settings
from app.core.templating import format_date
from app.dashboard.models import Reminder
from app.dashboard.roster import RosterFilter, Status, roster_query
from app.enrolments.models import Enrollment
from app.mail import service as mail_service
from app.org.scope import Scope
from app.progress.models import CourseStatus


def compose(*, name: str, course_title: str, due_at: datetime | None, link: str) -> tuple[str, str]:
    subject = f"【受講のお願い】{course_title}"
    due = f"受講期限は {format_date(due_at)} です。" if due_at else ""
    body = (
        f"{name} さん\n\n「{course_title}」の受講がまだ完了していません。{due}\n"
        f"次のリンクから続きを受講してください。\n{link}\n\n"
        "困ったときは、上司や相談窓口に相談してください。\n"
    )
    return subject, body


async def send_reminders(
    session: AsyncSession,
    *,
    settings: Settings,
    sender: User,
    scope: Scope,
    course: Course,
    version: CourseVersion,
    now: datetime,
    user_ids: list[int],
    all_overdue: bool,
) -> int:
    """Remind the chosen employees (or every overdue one) who are in scope and not finished; returns how many."""
    status = Status.OVERDUE if all_overdue else None
    statement = roster_query(
        scope,
        RosterFilter(course_id=course.id, status=status),
        now,
        User.id,
        User.display_name,
        User.email,
        Enrollment.due_at,
    )
    # People without a company e-mail (front-line staff signing in by 社員番号) are reminded by their manager.
    statement = statement.where(CourseStatus.completed_at.is_(None), User.email.is_not(None))
    if not all_overdue:
        if not user_ids:
            return 0
        statement = statement.where(User.id.in_(user_ids))
    link = f"{settings.base_url.rstrip('/')}/courses/{course.slug}"
    sent = 0
    for user_id, name, email, due_at in (await session.execute(statement)).all():
        subject, body = compose(name=name, course_title=version.title, due_at=due_at, link=link)
        message = await mail_service.send(
            session, settings=settings, to_address=email, subject=subject, body=body, to_user_id=user_id
        )
        session.add(Reminder(sender_id=sender.id, user_id=user_id, course_id=course.id, message_id=message.id))
        sent += 1
    await session.flush()
    return sent


async def reminders_for(session: AsyncSession, *, user_id: int, course_id: int) -> list[Reminder]:
    result = await session.scalars(
        select(Reminder)
        .where(Reminder.user_id == user_id, Reminder.course_id == course_id)
        .order_by(Reminder.id.desc())
    )
    return list(result)
