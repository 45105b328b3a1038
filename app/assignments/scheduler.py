"""Opens recurring training cycles on time without a separate scheduler: every worker checks now and then.
Running it in several workers at once is safe (see app.assignments.recurrence); a worker keeps no state."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator

from fastapi import FastAPI

from app.assignments.recurrence import open_due_cycles
from app.core import logs
from app.core.db import utcnow

FIRST_CHECK_SECONDS = 15


async def check_once(app: FastAPI) -> int:
    async with app.state.sessionmaker() as session, session.begin():
        opened = await open_due_cycles(session, now=utcnow())
    if opened:
        logs.get_logger().info("training_cycles_opened", count=len(opened), ids=[a.id for a in opened])
    return len(opened)


async def _loop(app: FastAPI, interval_seconds: float) -> None:
    await asyncio.sleep(FIRST_CHECK_SECONDS * random.random())
    while True:
        try:
            await check_once(app)
        except Exception as error:  # a database outage or an unmigrated schema: try again next time
            logs.get_logger().warning("training_cycle_check_failed", error=type(error).__name__)
        # Jitter, so that workers started together do not all check at the same second.
        await asyncio.sleep(interval_seconds * (0.9 + 0.2 * random.random()))


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    minutes = app.state.settings.cycle_check_minutes
    task = asyncio.create_task(_loop(app, minutes * 60)) if minutes else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
