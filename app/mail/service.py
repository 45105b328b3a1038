"""Outgoing mail: every message is kept in the outbox; with SMTP configured it is also sent."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import utcnow
from app.mail.models import OutboxMessage


async def _deliver(settings: Settings, message: OutboxMessage) -> None:
    import aiosmtplib

    email = EmailMessage()
    email["From"] = settings.mail_from
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body)
    await aiosmtplib.send(
        email,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_starttls,
        timeout=10,
    )


async def send(
    session: AsyncSession, *, settings: Settings, to_address: str, subject: str, body: str, to_user_id: int | None
) -> OutboxMessage:
    """Store the message; deliver it when SMTP is configured, recording success or the error."""
    message = OutboxMessage(to_user_id=to_user_id, to_address=to_address, subject=subject, body=body)
    session.add(message)
    await session.flush()
    if settings.smtp_host:
        try:
            await _deliver(settings, message)
            message.sent_at = utcnow()
        except Exception as error:  # a mail server problem must not lose the reminder: it stays in the outbox
            message.error = f"{type(error).__name__}: {error}"
    return message


async def list_outbox(session: AsyncSession, *, limit: int = 200) -> list[OutboxMessage]:
    result = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit))
    return list(result)
