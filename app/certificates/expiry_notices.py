"""Telling holders that their certificate is about to expire: a daily scheduled job mails everyone whose newest
certificate of a course expires within NOTICE_DAYS, once per certificate (marked in the same transaction)."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.certificates import service as certificates_service
from app.certificates.models import Certificate
from app.content.models import Course
from app.core.db import utcnow
from app.core.templating import format_date
from app.jobs.context import JobContext
from app.jobs.registry import JobKind, Schedule
from app.mail import service as mail_service

NOTICE_DAYS = 30
CHUNK_SIZE = mail_service.BATCH_SIZE


def compose(*, name: str, course_title: str, expires_on: str, link: str) -> tuple[str, str]:
    subject = f"【修了証の有効期限】{course_title}"
    body = (
        f"{name} さん\n\n「{course_title}」の修了証は {expires_on} に有効期限を迎えます。\n"
        f"期限までにもう一度受講してください。次のリンクから始められます。\n{link}\n"
    )
    return subject, body


async def _due_notices(session: AsyncSession, *, limit: int) -> list[Any]:
    now = utcnow()
    statement = (
        select(Certificate.id, Certificate.user_id, Certificate.expires_at, Certificate.course_title, User, Course.slug)
        .join(*certificates_service.newest_of_each_course())
        .join(User, User.id == Certificate.user_id)
        .join(Course, Course.id == Certificate.course_id)
        .where(
            User.is_active.is_(True),
            User.email.is_not(None),
            Certificate.expiry_notified_at.is_(None),
            Certificate.expires_at > now,
            Certificate.expires_at <= now + timedelta(days=NOTICE_DAYS),
        )
        .order_by(Certificate.id)
        .limit(limit)
    )
    return list((await session.execute(statement)).all())


async def send_expiry_notices(context: JobContext) -> dict[str, Any]:
    sent = 0
    link_base = context.settings.base_url.rstrip("/")
    while True:
        async with context.transaction() as session:
            rows = await _due_notices(session, limit=CHUNK_SIZE)
            if not rows:
                return {"sent": sent}
            messages = []
            for _certificate_id, _user_id, expires_at, title, user, slug in rows:
                subject, body = compose(
                    name=user.display_name,
                    course_title=title,
                    expires_on=format_date(expires_at),
                    link=f"{link_base}/courses/{slug}",
                )
                messages.append(
                    mail_service.store(to_address=user.email, subject=subject, body=body, to_user_id=user.id)
                )
            session.add_all(messages)
            await session.execute(
                update(Certificate)
                .where(Certificate.id.in_([row[0] for row in rows]))
                .values(expiry_notified_at=utcnow())
            )
            await session.flush()
            await mail_service.deliver_later(
                session,
                settings=context.settings,
                message_ids=[m.id for m in messages],
                subject="修了証の有効期限のお知らせ",
            )
            sent += len(rows)
            await context.step(session, done=sent)


EXPIRY_NOTICES = JobKind(
    "certificates.expiry_notices", send_expiry_notices, max_attempts=5, label="修了証の有効期限のお知らせ"
)
EXPIRY_SCHEDULE = Schedule("certificate-expiry-notices", EXPIRY_NOTICES, daily_at=time(9, 0))
