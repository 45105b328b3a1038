"""Recurring jobs without a separate scheduler process: every worker looks at the schedules now and then and
enqueues the current slot of each; the slot is in the idempotency key, so it runs once however many look."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs import queue, registry

JAPAN = ZoneInfo("Asia/Tokyo")
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def current_slot(item: registry.Schedule, now: datetime) -> datetime:
    """The start of the slot `now` falls in: multiples of `every` since a fixed epoch, or today's (Japan time)
    `daily_at` once it has passed, else yesterday's."""
    if item.every is not None:
        periods = (now - EPOCH) // item.every
        return EPOCH + periods * item.every
    assert item.daily_at is not None
    local = now.astimezone(JAPAN)
    today = datetime.combine(local.date(), item.daily_at, tzinfo=JAPAN)
    slot = today if local >= today else today - timedelta(days=1)
    return slot.astimezone(UTC)


def slot_key(item: registry.Schedule, slot: datetime) -> str:
    return f"schedule:{item.name}:{slot.strftime('%Y-%m-%dT%H:%M')}"


async def enqueue_due(session: AsyncSession, *, now: datetime, queues: list[str] | None = None) -> int:
    """Enqueue every schedule's current slot that is not enqueued yet; returns how many were new."""
    enqueued = 0
    for item in registry.schedules():
        if queues and item.kind.queue not in queues:
            continue
        slot = current_slot(item, now)
        if item.daily_at is not None and now - slot > item.catch_up:
            continue
        job_id = await queue.enqueue(
            session,
            item.kind,
            {**item.payload, "slot": slot.isoformat()},
            key=slot_key(item, slot),
            subject=item.kind.label,
        )
        enqueued += job_id is not None
    return enqueued
