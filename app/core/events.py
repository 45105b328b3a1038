"""In-process domain events: a lower layer announces what happened, the layers above that care subscribe.

The lower layer never imports its subscribers, so dependencies keep pointing down. Handlers run in the
announcer's transaction (they see its writes and roll back with it). An event nobody subscribed to is an error:
wiring that was forgotten would otherwise drop work silently. `app/subscriptions.py` holds the wiring.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

Handler = Callable[[AsyncSession, Any], Awaitable[None]]
_handlers: dict[type, list[Handler]] = {}


def subscribe(event_type: type, handler: Handler) -> None:
    """Run `handler(session, event)` for every event of this type (once, however often it is subscribed)."""
    handlers = _handlers.setdefault(event_type, [])
    if handler not in handlers:
        handlers.append(handler)


async def emit(session: AsyncSession, event: object) -> None:
    """Run every handler of the event's type, in the order they subscribed."""
    handlers = _handlers.get(type(event))
    if not handlers:
        raise LookupError(f"nobody handles {type(event).__name__}: call app.subscriptions.install() at start-up")
    for handler in handlers:
        await handler(session, event)
