"""Learners first (app/core/priority.py): a heavy page's pieces wait while learners' requests run, never for long."""

from __future__ import annotations

import asyncio
import time

import pytest
from starlette.types import Receive, Scope, Send

from app.core.priority import CountLearnerRequests, LearnersFirst, Turns


async def test_a_heavy_page_waits_until_the_learners_requests_in_flight_have_finished() -> None:
    gate = LearnersFirst()
    gate.started()
    order: list[str] = []

    async def dashboard_piece() -> None:
        await gate.wait_turn(max_wait=5)
        order.append("dashboard")

    async def submission() -> None:
        await asyncio.sleep(0.05)
        order.append("submission")
        gate.finished()

    await asyncio.gather(dashboard_piece(), submission())
    assert order == ["submission", "dashboard"]


async def test_a_heavy_page_is_never_starved_and_goes_at_once_when_nobody_learns() -> None:
    gate = LearnersFirst()
    started = time.perf_counter()
    await gate.wait_turn(max_wait=5)
    assert time.perf_counter() - started < 0.05  # nobody in flight: no wait
    gate.started()  # a learner's request that does not finish in time
    started = time.perf_counter()
    await gate.wait_turn(max_wait=0.05)
    assert 0.04 < time.perf_counter() - started < 1
    assert gate.in_flight == 1


async def test_only_the_learners_pages_are_counted_and_always_uncounted_after() -> None:
    gate = LearnersFirst()
    seen: list[int] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(gate.in_flight)
        if scope["path"] == "/attempts/9/submit":
            raise RuntimeError("the route failed")

    counted = CountLearnerRequests(app, gate=gate)
    for path in ("/courses/c/lessons/l", "/my", "/dashboard", "/admin/users", "/quizzes/1/attempts"):
        await counted({"type": "http", "path": path}, None, None)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        await counted({"type": "http", "path": "/attempts/9/submit"}, None, None)  # type: ignore[arg-type]
    assert seen == [1, 1, 0, 0, 1, 1]
    assert gate.in_flight == 0


async def test_all_of_a_pages_waits_together_stay_within_its_budget() -> None:
    gate = LearnersFirst()
    gate.started()  # learners keep the worker busy the whole time
    turn = Turns(gate, budget=0.05, each=0.03)
    started = time.perf_counter()
    for _ in range(4):
        await turn()
    assert time.perf_counter() - started < 0.09  # 4 × 30 ms would be 120 ms; the budget stops it at about 50
