"""Which code runs a job of which kind. A domain declares its kinds next to their handlers; `app/subscriptions.py`
registers them at start-up, so this package never imports the domains that use it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

# Called with the job's app.jobs.context.JobContext (not imported here: the context needs the queue, which needs
# JobKind); returns what the ジョブ page and the starter's panel show as the result.
Handler = Callable[[Any], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler = field(compare=False)
    queue: str = "default"
    max_attempts: int = 5
    timeout_seconds: int = 600
    label: str = ""  # Japanese, for the ジョブ page when a job has no subject of its own


@dataclass(frozen=True)
class Schedule:
    """A recurring job: every `every`, or daily at `daily_at` (Japan time). Each slot is enqueued once, by whichever
    worker sees it first (the slot is in the job's idempotency key). A daily slot is enqueued only within
    `catch_up` of its time: a digest is not mailed at 15:00 because the workers were down at 08:00, nor on the
    first start of a new installation."""

    name: str
    kind: JobKind
    every: timedelta | None = None
    daily_at: time | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    catch_up: timedelta = timedelta(hours=6)


_kinds: dict[str, JobKind] = {}
_schedules: dict[str, Schedule] = {}


def register(*kinds: JobKind) -> None:
    for kind in kinds:
        _kinds[kind.name] = kind


def schedule(*schedules: Schedule) -> None:
    for item in schedules:
        if (item.every is None) == (item.daily_at is None):
            raise ValueError(f"schedule {item.name}: give exactly one of every= and daily_at=")
        register(item.kind)
        _schedules[item.name] = item


def unschedule(name: str) -> None:
    _schedules.pop(name, None)


def kind_named(name: str) -> JobKind | None:
    return _kinds.get(name)


def kinds() -> list[JobKind]:
    return list(_kinds.values())


def schedules() -> list[Schedule]:
    return list(_schedules.values())
