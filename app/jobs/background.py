"""The in-process worker of `lms serve` and `make run`: the embedded set-up needs no second process. It runs in
the web app's lifespan and stops with it (on SIGTERM, uvicorn ends the lifespan: running jobs finish or are given
back)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from app.jobs.worker import Worker, WorkerOptions


def options_from(app: FastAPI) -> WorkerOptions:
    settings = app.state.settings
    return WorkerOptions(
        concurrency=settings.worker_concurrency,
        lease_seconds=settings.job_lease_seconds,
        shutdown_grace_seconds=settings.job_shutdown_seconds,
    )


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    if not app.state.settings.worker_in_process:
        yield
        return
    worker = Worker(app.state.sessionmaker, app.state.settings, options_from(app))
    task = asyncio.create_task(worker.run())
    app.state.worker = worker
    try:
        yield
    finally:
        worker.stop()
        await task
