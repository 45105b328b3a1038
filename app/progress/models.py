from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class LessonProgress(Base):
    """Keyed by lesson slug, not lesson row, so progress carries over to a new version of the course."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "course_id", "lesson_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    lesson_slug: Mapped[str] = mapped_column(String(63))
    first_opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_version_id: Mapped[int | None] = mapped_column(ForeignKey("course_versions.id", ondelete="SET NULL"))
    seconds_spent: Mapped[int] = mapped_column(Integer, default=0)


class LessonReading(Base):
    """Every reading that counted (the first, one asked for by a new version, one in a new training cycle), never
    changed: the record of which version of a lesson each learner read, and when."""

    __tablename__ = "lesson_readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    lesson_slug: Mapped[str] = mapped_column(String(63))
    version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id", ondelete="RESTRICT"))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseCompletion(Base):
    """Written once, when the completion rule is first met; never moved afterwards."""

    __tablename__ = "course_completions"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id", ondelete="RESTRICT"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourseStatus(Base):
    """One learner's standing in one course, kept current on every read and submission so that dashboards
    filter, sort and count 100,000 employees with plain indexed queries."""

    __tablename__ = "course_status"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    percent: Mapped[int] = mapped_column(Integer, default=0)
    lessons_read: Mapped[int] = mapped_column(Integer, default=0)
    tests_passed: Mapped[int] = mapped_column(Integer, default=0)
    best_score: Mapped[float | None] = mapped_column(Float)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
