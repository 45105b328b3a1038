"""Learners first: a manager's heavy page waits while learners' requests are being served by this worker.

A worker serves everyone on one event loop, which runs whatever is ready in turn. Two managers refreshing the
whole company's dashboard back to back always have a piece ready (each view is ~20 ms of work at 100,000
employees), so at a deadline a learner's submission, which takes a dozen turns of the loop, waited behind a
dashboard piece at almost every turn: 25 submissions a second went from 20 ms to seconds at p95
(docs/performance.md, issue 16). Learners' requests are counted while they run; a heavy page waits between its
pieces until none is running, never more than 20 ms at a time nor 100 ms in all (`Turns`), so it is never starved.

The count is this worker's own state about its own event loop, nothing another worker needs.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.types import ASGIApp, Receive, Scope, Send

# Where learners take the course: the lesson pages, starting, answering and submitting tests, their own page.
LEARNER_PATHS = ("/courses/", "/quizzes/", "/attempts/", "/my")


class LearnersFirst:
    def __init__(self) -> None:
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def started(self) -> None:
        self.in_flight += 1
        self._idle.clear()

    def finished(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._idle.set()

    async def wait_turn(self, *, max_wait: float) -> None:
        """Let every learner's request that is running now finish first (at most `max_wait` seconds)."""
        if self.in_flight:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), max_wait)
        else:
            await asyncio.sleep(0)  # still give anything that is ready its turn


class Turns:
    """One heavy request's waits: each at most `each` seconds, and all of them together at most `budget`, so the
    page is late by a bounded amount however busy the learners keep the worker."""

    def __init__(self, gate: LearnersFirst, *, budget: float = 0.1, each: float = 0.02) -> None:
        self.gate, self.each = gate, each
        self.deadline = asyncio.get_running_loop().time() + budget

    async def __call__(self) -> None:
        left = self.deadline - asyncio.get_running_loop().time()
        if left <= 0:
            await asyncio.sleep(0)
            return
        await self.gate.wait_turn(max_wait=min(self.each, left))


class CountLearnerRequests:
    """ASGI middleware: counts the learners' requests in flight for the app's LearnersFirst."""

    def __init__(self, app: ASGIApp, *, gate: LearnersFirst) -> None:
        self.app, self.gate = app, gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(LEARNER_PATHS):
            await self.app(scope, receive, send)
            return
        self.gate.started()
        try:
            await self.app(scope, receive, send)
        finally:
            self.gate.finished()
