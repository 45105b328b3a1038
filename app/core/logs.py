"""Structured logs (JSON lines on stderr) with a correlation id per request.

Events carry ids and outcomes only: never a password, a session or API token, or what someone typed as a login.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import sys
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.middleware import request_headers

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_configured = False


def _stderr_logger(*_args: Any) -> structlog.PrintLogger:
    # sys.stderr as it is when the event is logged, not when logging was configured: a CLI test runner swaps it
    # for a buffer it closes afterwards, and later events must not go to that closed buffer.
    return structlog.PrintLogger(file=sys.stderr)


def configure(level: str = "info") -> None:
    """JSON lines for machines (log shippers parse them as they are); configured once per process."""
    global _configured
    if _configured:
        return
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=_stderr_logger,
        cache_logger_on_first_use=False,  # so tests can capture events (structlog.testing.capture_logs)
    )
    _configured = True


def get_logger() -> Any:
    return structlog.get_logger("lms")


def _fresh_prefix() -> str:
    return secrets.token_hex(8)


_id_prefix = _fresh_prefix()
_id_counter = itertools.count()


def _reseed_after_fork() -> None:
    global _id_prefix, _id_counter
    _id_prefix, _id_counter = _fresh_prefix(), itertools.count()


os.register_at_fork(after_in_child=_reseed_after_fork)


def new_request_id() -> str:
    """Unique per request without a system call each time (uuid4 reads the OS's random source, measurable on
    every page): a random prefix per process, then a counter. A correlation id needs to be unique, not secret."""
    return f"{_id_prefix}{next(_id_counter):016x}"


def request_id_from(headers: dict[str, str]) -> str:
    """The caller's id when it is a plain token (a load balancer's), else a new one: a header must not be able to
    write arbitrary text into the logs."""
    given = headers.get(REQUEST_ID_HEADER, "")
    return given if _SAFE_ID.match(given) else new_request_id()


class RequestIdMiddleware:
    """Give every request a correlation id: bound to the logs, shown on error pages, returned as X-Request-ID."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(request_headers(scope))
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)
