"""Outgoing mail: every message is kept in the outbox first; with SMTP configured a job then delivers it, so no
request waits for a mail server and a message the server refused is retried (app/mail/delivery.py)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.jobs import queue
from app.mail.delivery import DELIVER
from app.mail.models import OutboxMessage

BATCH_SIZE = 500  # messages per delivery job: one SMTP connection each, several jobs in parallel


def store(*, to_address: str, subject: str, body: str, to_user_id: int | None) -> OutboxMessage:
    """A message for the outbox (add it to the session); deliver it with `deliver_later`."""
    return OutboxMessage(to_user_id=to_user_id, to_address=to_address, subject=subject, body=body)


async def deliver_later(
    session: AsyncSession, *, settings: Settings, message_ids: list[int], subject: str = ""
) -> None:
    """Enqueue the delivery of these stored messages, in the caller's transaction (nothing without SMTP)."""
    if settings.smtp_host and message_ids:
        await queue.enqueue(session, DELIVER, {"message_ids": message_ids}, subject=subject or DELIVER.label)


async def send(
    session: AsyncSession, *, settings: Settings, to_address: str, subject: str, body: str, to_user_id: int | None
) -> OutboxMessage:
    """Store one message and enqueue its delivery, both in the caller's transaction."""
    message = store(to_address=to_address, subject=subject, body=body, to_user_id=to_user_id)
    session.add(message)
    await session.flush()
    await deliver_later(session, settings=settings, message_ids=[message.id])
    return message


async def list_outbox(session: AsyncSession, *, limit: int = 200) -> list[OutboxMessage]:
    result = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit))
    return list(result)
