"""Structured logs (readable lines on a terminal, JSON lines otherwise or to a file) with a correlation id per
request.

Events carry ids and outcomes only: never a password, a session or API token, or what someone typed as a login.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import sys
from pathlib import Path
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.middleware import request_headers

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")
_configured = False


class _Outputs:
    """Where each event goes, each in its own form: readable lines on a terminal (people running `make run` read
    them beside the CLI's Japanese), JSON lines for log shippers and for the optional file. The processors end
    with the event as a dict; each output renders it."""

    def __init__(self, terminal_json: bool, file: Path | None) -> None:
        self.terminal_json = terminal_json
        # line-buffered and appended to: each event is one write, whole lines even from several processes
        self.file = file.open("a", encoding="utf-8", buffering=1) if file is not None else None
        self.json = structlog.processors.JSONRenderer(ensure_ascii=False)
        self.human = structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)

    def write(self, event: dict[str, Any]) -> None:
        # sys.stderr as it is when the event is logged, not when logging was configured: a CLI test runner swaps
        # it for a buffer it closes afterwards, and later events must not go to that closed buffer.
        render = self.json if self.terminal_json else self.human
        print(render(None, "", dict(event)), file=sys.stderr, flush=True)
        if self.file is not None:
            self.file.write(self.json(None, "", dict(event)) + "\n")

    def __getattr__(self, _level: str) -> Any:  # info, warning, error, exception, …: all the same write
        return self.write


def _as_dict(_logger: Any, _method: str, event: dict[str, Any]) -> tuple[tuple[dict[str, Any]], dict[str, Any]]:
    return (event,), {}


def configure(level: str = "info", *, log_format: str = "auto", file: Path | None = None) -> None:
    """Configured once per process. `log_format` auto: JSON unless stderr is a terminal."""
    global _configured
    if _configured:
        return
    terminal_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
    outputs = _Outputs(terminal_json, file)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.dict_tracebacks,
            _as_dict,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=lambda *_args: outputs,
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
