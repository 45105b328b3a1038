"""What a job's handler gets: its payload, where an earlier attempt got to, and transactions that record progress
together with the work they did."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings
from app.jobs import queue
from app.jobs.models import JobFile


class LeaseLost(Exception):
    """Another worker took this job over (this one was too slow to renew its lease): stop without writing."""


class PermanentJobError(Exception):
    """A failure that another attempt cannot fix (the thing to work on is gone): the job is dead at once."""


@dataclass
class JobContext:
    claim: queue.Claim
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings

    @property
    def job_id(self) -> int:
        return self.claim.job_id

    @property
    def payload(self) -> dict[str, Any]:
        return self.claim.payload

    @property
    def checkpoint(self) -> dict[str, Any]:
        return self.claim.checkpoint or {}

    @property
    def attempt(self) -> int:
        return self.claim.attempts

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of the job's work: committed together with the progress saved in it, or not at all.

        On SQLite, one writer at a time holds the database, and a job that begins its next chunk the instant it
        commits the last would win the lock every time against requests that wait for it with short sleeps:
        learners' submissions timed out behind a course-wide recompute. After each chunk the job pauses longer
        than such a wait's longest sleep (100 ms; LMS_JOB_SQLITE_PAUSE_MS), so waiting requests get in between."""
        async with self.sessionmaker() as session:
            async with session.begin():
                yield session
            wrote_sqlite = session.bind is not None and session.bind.dialect.name == "sqlite"
        if wrote_sqlite and self.settings.job_sqlite_pause_ms:
            await asyncio.sleep(self.settings.job_sqlite_pause_ms / 1000)

    async def step(
        self,
        session: AsyncSession,
        *,
        checkpoint: dict[str, Any] | None = None,
        done: int | None = None,
        total: int | None = None,
    ) -> None:
        """Save progress inside the chunk's transaction, so the chunk and "done up to here" commit as one."""
        if not await queue.save_progress(session, self.claim, checkpoint=checkpoint, done=done, total=total):
            raise LeaseLost(f"job {self.job_id} is no longer this worker's")
        self.claim = queue.Claim(
            **{
                **self.claim.__dict__,
                "checkpoint": checkpoint if checkpoint is not None else self.claim.checkpoint,
                "progress_done": done if done is not None else self.claim.progress_done,
            }
        )

    async def attach_file(self, session: AsyncSession, *, filename: str, media_type: str, content: bytes) -> None:
        """Keep the file the job made (replacing one an earlier attempt left), for its starter to download."""
        await session.execute(delete(JobFile).where(JobFile.job_id == self.job_id))
        session.add(JobFile(job_id=self.job_id, filename=filename, media_type=media_type, content=content))
