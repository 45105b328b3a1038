from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class JobState(StrEnum):
    QUEUED = "queued"  # waiting for its run_at
    RUNNING = "running"  # claimed by a worker until lease_expires_at
    FAILED = "failed"  # an attempt failed; waiting for its next attempt at run_at
    SUCCEEDED = "succeeded"
    DEAD = "dead"  # every attempt failed (or its kind is unknown): only a person's retry runs it again


WAITING_STATES = (JobState.QUEUED, JobState.FAILED)


class Job(Base):
    """A unit of background work, stored in the application's own database so it is enqueued in the same
    transaction as the change that causes it: the job exists if and only if its cause committed."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "state", "queue", "run_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(80))
    queue: Mapped[str] = mapped_column(String(40), default="default")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12), default=JobState.QUEUED)
    # Enqueueing a second job with the same key does nothing: a schedule's slot, a batch, a cause runs once.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # lower runs first
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    timeout_seconds: Mapped[int] = mapped_column(Integer, default=600)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    # Where a chunked job has got to, saved in the same transaction as the chunk: a retry resumes from here.
    checkpoint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300), default="")  # what a person reads on the ジョブ page
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return 100 if self.state == JobState.SUCCEEDED else None
        return min(100, self.progress_done * 100 // self.progress_total)

    @property
    def finished(self) -> bool:
        return self.state in (JobState.SUCCEEDED, JobState.DEAD)


class JobFile(Base):
    """A file a job produced (an evidence pack), downloaded by the person who asked for it."""

    __tablename__ = "job_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
