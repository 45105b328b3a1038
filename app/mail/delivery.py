"""Delivering stored messages over SMTP, as a job: one connection per batch, each message marked sent (or refused
for good, with the error) in its own short transaction right after the server answered, so a retry (after an
error or a killed worker) sends only what was not sent. Every message carries a Message-ID made from its outbox
id: the one mail a worker killed between the server's "accepted" and our commit sends again has the same id,
and mail systems drop such a duplicate."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import aiosmtplib
from sqlalchemy import select, update

from app.core.config import Settings
from app.core.db import utcnow
from app.jobs.context import JobContext
from app.jobs.registry import JobKind
from app.mail.models import OutboxMessage

# A refusal with a 5xx code is final for that address (no such user, policy): retrying will not help.
PERMANENT_SMTP_CODES = range(500, 600)
PROGRESS_EVERY = 20


def message_id(settings: Settings, outbox_id: int) -> str:
    domain = urlsplit(settings.base_url).hostname or "lms.invalid"
    return f"<outbox-{outbox_id}@{domain}>"


def as_email(settings: Settings, message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email["Message-ID"] = message_id(settings, message.id)
    email.set_content(message.body)
    return email


def _is_permanent(error: Exception) -> bool:
    code = getattr(error, "code", None)
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [getattr(item, "code", 0) for item in error.recipients]
        return bool(codes) and all(c in PERMANENT_SMTP_CODES for c in codes)
    return (
        isinstance(code, int)
        and code in PERMANENT_SMTP_CODES
        and not isinstance(error, aiosmtplib.SMTPAuthenticationError)
    )


def smtp_client(settings: Settings) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=10,
    )


async def deliver(context: JobContext) -> dict[str, Any]:
    settings = context.settings
    ids = [int(i) for i in context.payload.get("message_ids", [])]
    async with context.transaction() as session:
        pending = list(
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.sent_at.is_(None), OutboxMessage.error.is_(None))
                .order_by(OutboxMessage.id)
            )
        )
        await context.step(session, done=len(ids) - len(pending), total=len(ids))
    if not pending or not settings.smtp_host:
        return {"sent": 0, "refused": 0}
    sent = refused = 0
    done = len(ids) - len(pending)
    client = smtp_client(settings)
    # One session for the batch, one short transaction per message (its sent mark is what a retry relies on);
    # progress and the lease check every PROGRESS_EVERY messages, which halves the statements per mail.
    async with client, context.sessionmaker() as session:
        for message in pending:
            error: Exception | None = None
            try:
                await client.send_message(as_email(settings, message))
            except aiosmtplib.SMTPException as smtp_error:
                if not _is_permanent(smtp_error):
                    raise  # the server is unwell: the job retries later, from the first message not yet sent
                error = smtp_error
            done += 1
            values: dict[str, Any] = (
                {"sent_at": utcnow(), "error": None}
                if error is None
                else {"sent_at": None, "error": f"{type(error).__name__}: {error}"[:2000]}
            )
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(**values))
            await session.commit()  # the mail is out: its mark must stick even if the lease turns out lost
            if done % PROGRESS_EVERY == 0 or done == len(ids):
                await context.step(session, done=done)  # stops here if another worker took the job over
                await session.commit()
            if error is None:
                sent += 1
            else:
                refused += 1
    return {"sent": sent, "refused": refused}


DELIVER = JobKind("mail.deliver", deliver, queue="mail", max_attempts=8, timeout_seconds=1800, label="メールの送信")
