"""督促: reminding employees in scope who have not finished. The manager's request only enqueues a job; the job
writes each person's outbox message and reminder record in chunks, each chunk committed together with "done up
to this employee", and hands every chunk to mail delivery. A worker killed mid-way leaves a job that resumes after
the last committed chunk: everyone is reminded, and logged, exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.content import service as content_service
from app.content.models import Course, CourseVersion
from app.core.clock import JAPAN
from app.core.templating import format_date
from app.dashboard.models import Reminder
from app.dashboard.roster import RosterFilter, Status, roster_query
from app.enrolments.models import Enrollment
from app.jobs import queue
from app.jobs.context import JobContext, PermanentJobError
from app.jobs.registry import JobKind
from app.mail import service as mail_service
from app.org import service as org_service
from app.org.scope import Scope
from app.progress.models import CourseStatus

CHUNK_SIZE = mail_service.BATCH_SIZE


def compose(*, name: str, course_title: str, due_at: datetime | None, link: str) -> tuple[str, str]:
    subject = f"【受講のお願い】{course_title}"
    due = f"受講期限は {format_date(due_at)} です。" if due_at else ""
    body = (
        f"{name} さん\n\n「{course_title}」の受講がまだ完了していません。{due}\n"
        f"次のリンクから続きを受講してください。\n{link}\n\n"
        "困ったときは、上司や相談窓口に相談してください。\n"
    )
    return subject, body


def start_of_day(now: datetime) -> datetime:
    """Midnight in Japan on `now`'s day: one 督促 per person and course per calendar day people live in."""
    local = now.astimezone(JAPAN)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _reminded_today(course: Course, now: datetime) -> Any:
    return exists().where(
        Reminder.user_id == User.id, Reminder.course_id == course.id, Reminder.created_at >= start_of_day(now)
    )


def _chosen(
    scope: Scope, course: Course, *, now: datetime, user_ids: list[int], all_overdue: bool, columns: Any
) -> Select:
    """Everyone the request names, in scope and not finished: every overdue one, or those chosen."""
    status = Status.OVERDUE if all_overdue else None
    statement = roster_query(scope, RosterFilter(course_id=course.id, status=status), now, *columns)
    statement = statement.where(CourseStatus.completed_at.is_(None))
    if not all_overdue:
        statement = statement.where(User.id.in_(user_ids or [0]))
    return statement


def _recipients(
    scope: Scope, course: Course, *, now: datetime, user_ids: list[int], all_overdue: bool, columns: Any
) -> Select:
    """The employees to remind: those chosen who have a company e-mail (staff who sign in by 社員番号 are reminded
    by their manager) and were not reminded of this course today already."""
    statement = _chosen(scope, course, now=now, user_ids=user_ids, all_overdue=all_overdue, columns=columns)
    return statement.where(User.email.is_not(None), ~_reminded_today(course, now))


NO_EMAIL = "メールアドレスがありません(社員番号でサインインする人には、直接声をかけてください)"
ALREADY_TODAY = "今日すでに督促しました(同じ人への督促は1日1回までです)"


@dataclass(frozen=True)
class Preview:
    """What a 督促 request would do, shown before anything is sent: who gets a mail, who does not and why."""

    recipients: list[str]  # names
    skipped: list[tuple[str, str]]  # (name, reason)


async def preview(
    session: AsyncSession, *, scope: Scope, course: Course, now: datetime, user_ids: list[int], all_overdue: bool
) -> Preview:
    columns = [User.display_name, User.email, _reminded_today(course, now).label("today")]
    statement = _chosen(scope, course, now=now, user_ids=user_ids, all_overdue=all_overdue, columns=columns)
    recipients, skipped = [], []
    for name, email, today in await session.execute(statement.order_by(User.display_name, User.id)):
        if email is None:
            skipped.append((name, NO_EMAIL))
        elif today:
            skipped.append((name, ALREADY_TODAY))
        else:
            recipients.append(name)
    return Preview(recipients, skipped)


async def request_reminders(
    session: AsyncSession,
    *,
    sender: User,
    course: Course,
    version: CourseVersion,
    now: datetime,
    user_ids: list[int],
    all_overdue: bool,
) -> int:
    """Enqueue the 督促 (in the caller's transaction); returns the job's id for the page to follow."""
    who = "期限超過の全員" if all_overdue else f"選んだ {len(user_ids)} 人"
    job_id = await queue.enqueue(
        session,
        SEND_REMINDERS,
        {
            "sender_id": sender.id,
            "course_id": course.id,
            "now": now.isoformat(),
            "user_ids": [] if all_overdue else sorted(set(user_ids)),
            "all_overdue": all_overdue,
        },
        subject=f"督促メール: {version.title}({who})",
        created_by_id=sender.id,
    )
    assert job_id is not None  # no idempotency key: every request is a job of its own
    return job_id


async def run_reminders(context: JobContext) -> dict[str, Any]:
    payload = context.payload
    now = datetime.fromisoformat(payload["now"])  # the request's moment: "overdue" means the same on every retry
    after = int(context.checkpoint.get("after_user_id", 0))
    sent = int(context.checkpoint.get("sent", 0))
    link_base = context.settings.base_url.rstrip("/")
    while True:
        async with context.transaction() as session:
            sender = await session.get(User, payload["sender_id"])
            if sender is None or not sender.is_active:
                raise PermanentJobError("督促を依頼した人のアカウントがありません。")
            scope = await org_service.scope_for(session, user=sender)
            course, version = await content_service.get_course_by_id(session, course_id=payload["course_id"])
            choose = {"now": now, "user_ids": payload["user_ids"], "all_overdue": payload["all_overdue"]}
            if context.claim.progress_done == 0 and after == 0:
                counted = _recipients(scope, course, columns=[func.count()], **choose)
                await context.step(session, total=int(await session.scalar(counted) or 0))
            statement = _recipients(
                scope, course, columns=[User.id, User.display_name, User.email, Enrollment.due_at], **choose
            )
            rows = (await session.execute(statement.where(User.id > after).order_by(User.id).limit(CHUNK_SIZE))).all()
            if not rows:
                return {"sent": sent}
            link = f"{link_base}/courses/{course.slug}"
            messages = []
            for _user_id, name, email, due_at in rows:
                subject, body = compose(name=name, course_title=version.title, due_at=due_at, link=link)
                messages.append(mail_service.store(to_address=email, subject=subject, body=body, to_user_id=_user_id))
            session.add_all(messages)
            await session.flush()
            session.add_all(
                Reminder(sender_id=sender.id, user_id=row[0], course_id=course.id, message_id=message.id)
                for row, message in zip(rows, messages, strict=True)
            )
            await mail_service.deliver_later(
                session,
                settings=context.settings,
                message_ids=[m.id for m in messages],
                subject=f"督促メールの送信: {version.title}",
            )
            after, sent = rows[-1][0], sent + len(rows)
            await context.step(session, checkpoint={"after_user_id": after, "sent": sent}, done=sent)


SEND_REMINDERS = JobKind("reminders.send", run_reminders, max_attempts=5, timeout_seconds=3600, label="督促メール")


async def reminders_for(session: AsyncSession, *, user_id: int, course_id: int) -> list[Reminder]:
    result = await session.scalars(
        select(Reminder)
        .where(Reminder.user_id == user_id, Reminder.course_id == course_id)
        .order_by(Reminder.id.desc())
    )
    return list(result)
