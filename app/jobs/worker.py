"""The worker: claims due jobs, runs each under a renewed lease and a timeout, records the outcome, and enqueues
the slots of recurring schedules. Any number of workers, in any number of processes and machines, can share one
database; a worker keeps nothing another one needs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core import logs
from app.core.config import Settings
from app.core.db import utcnow
from app.jobs import queue, registry, schedules
from app.jobs.context import JobContext, LeaseLost, PermanentJobError

SCHEDULE_CHECK_SECONDS = 30


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class WorkerOptions:
    concurrency: int = 4
    queues: list[str] | None = None  # None: every queue
    lease_seconds: float = 60
    poll_seconds: float = 1.0
    shutdown_grace_seconds: float = 20
    run_schedules: bool = True


@dataclass
class Worker:
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    options: WorkerOptions = field(default_factory=WorkerOptions)
    name: str = field(default_factory=worker_name)
    _running: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    _claims: dict[int, queue.Claim] = field(default_factory=dict)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def stop(self) -> None:
        """Ask the worker to stop: it claims nothing more and lets running jobs finish (see `run`)."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Work until `stop()`; then wait for running jobs up to the grace period and give back the rest."""
        log = logs.get_logger()
        log.info("worker_started", worker=self.name, queues=self.options.queues or "all")
        schedule_task = asyncio.create_task(self._schedule_loop()) if self.options.run_schedules else None
        try:
            while not self._stopping.is_set():
                claimed = 0
                try:
                    claimed = await self._claim_and_start()
                except Exception as error:  # a database outage: wait and try again, as the web app does
                    log.warning("worker_claim_failed", worker=self.name, error=f"{type(error).__name__}: {error}")
                if claimed == 0 or len(self._running) >= self.options.concurrency:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.options.poll_seconds)
        finally:
            if schedule_task is not None:
                schedule_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await schedule_task
            await self._shut_down()
            log.info("worker_stopped", worker=self.name)

    async def run_until_idle(self, *, max_rounds: int = 1000) -> int:
        """Run every due job (and what they enqueue) until none is left; returns how many ran. For the command
        line's `lms worker --once` and for tests."""
        ran = 0
        if self.options.run_schedules:
            async with self.sessionmaker() as session, session.begin():
                await schedules.enqueue_due(session, now=utcnow(), queues=self.options.queues)
        for _ in range(max_rounds):
            async with self.sessionmaker() as session, session.begin():
                await queue.bury_abandoned(session, now=utcnow())
                claims = await queue.claim(
                    session,
                    worker=self.name,
                    limit=self.options.concurrency,
                    lease_seconds=self.options.lease_seconds,
                    queues=self.options.queues,
                )
            if not claims:
                return ran
            await asyncio.gather(*(self._execute(claim) for claim in claims))
            ran += len(claims)
        return ran

    async def _claim_and_start(self) -> int:
        free = self.options.concurrency - len(self._running)
        if free <= 0:
            return 0
        async with self.sessionmaker() as session, session.begin():
            await queue.bury_abandoned(session, now=utcnow())
            claims = await queue.claim(
                session,
                worker=self.name,
                limit=free,
                lease_seconds=self.options.lease_seconds,
                queues=self.options.queues,
                # a job this worker still runs is never taken again by it, even if its lease ran out meanwhile
                exclude=list(self._running),
            )
        for claim in claims:
            self._claims[claim.job_id] = claim
            task = asyncio.create_task(self._execute(claim))
            self._running[claim.job_id] = task
            task.add_done_callback(lambda _t, claim=claim: self._finished(claim))
        return len(claims)

    def _finished(self, claim: queue.Claim) -> None:
        # Only this attempt's own entries: never those of a later attempt of the same job.
        if self._claims.get(claim.job_id) is claim:
            self._running.pop(claim.job_id, None)
            self._claims.pop(claim.job_id, None)
        self._wake.set()

    async def _execute(self, claim: queue.Claim) -> None:
        log = logs.get_logger().bind(job_id=claim.job_id, kind=claim.kind, attempt=claim.attempts, worker=self.name)
        kind = registry.kind_named(claim.kind)
        context = JobContext(claim=claim, sessionmaker=self.sessionmaker, settings=self.settings)
        heartbeat = asyncio.create_task(self._renew_lease(context))
        try:
            if kind is None:
                raise PermanentJobError(f"このワーカーは種類 {claim.kind} のジョブを実行できません")
            result = await asyncio.wait_for(kind.handler(context), timeout=claim.timeout_seconds)
        except asyncio.CancelledError:
            raise  # shutting down: _shut_down gives the lease back
        except LeaseLost:
            log.warning("job_lease_lost")
            return
        except Exception as error:
            await self._record_failure(context, error, log)
            return
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        async with self.sessionmaker() as session, session.begin():
            recorded = await queue.succeed(session, context.claim, result=result)
        log.info("job_succeeded" if recorded else "job_lease_lost")

    async def _record_failure(self, context: JobContext, error: Exception, log: Any) -> None:
        if isinstance(error, TimeoutError):
            message = f"時間切れ: {context.claim.timeout_seconds} 秒以内に終わりませんでした"
        else:
            message = f"{type(error).__name__}: {error}\n" + "".join(traceback.format_exception(error)[-3:])
        async with self.sessionmaker() as session, session.begin():
            permanent = isinstance(error, PermanentJobError)
            state = await queue.fail(
                session, context.claim, error=message, permanent=permanent, reason=str(error) if permanent else None
            )
        log.warning("job_failed", state=state, error=f"{type(error).__name__}: {error}")

    async def _renew_lease(self, context: JobContext) -> None:
        while True:
            await asyncio.sleep(self.options.lease_seconds / 3)
            try:
                async with self.sessionmaker() as session, session.begin():
                    await queue.extend_lease(session, context.claim, lease_seconds=self.options.lease_seconds)
            except Exception as error:  # the next renewal may succeed; the lease is long enough for a miss
                logs.get_logger().warning("job_lease_renewal_failed", job_id=context.job_id, error=repr(error))

    async def _schedule_loop(self) -> None:
        while True:
            try:
                async with self.sessionmaker() as session, session.begin():
                    enqueued = await schedules.enqueue_due(session, now=utcnow(), queues=self.options.queues)
                if enqueued:
                    self._wake.set()
            except Exception as error:  # an outage or an unmigrated schema: the next check catches up
                logs.get_logger().warning("schedule_check_failed", error=f"{type(error).__name__}: {error}")
            await asyncio.sleep(SCHEDULE_CHECK_SECONDS)

    async def _shut_down(self) -> None:
        if not self._running:
            return
        tasks = list(self._running.values())
        _done, pending = await asyncio.wait(tasks, timeout=self.options.shutdown_grace_seconds)
        claims = [self._claims[job_id] for job_id, task in list(self._running.items()) if task in pending]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if claims:
            async with self.sessionmaker() as session, session.begin():
                for claim in claims:
                    await queue.release(session, claim)
            logs.get_logger().info("worker_released_jobs", worker=self.name, jobs=[c.job_id for c in claims])
