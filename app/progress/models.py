from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class Enrollment(Base):
    """A course assigned to a learner, with an optional due date."""

    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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


class CourseCompletion(Base):
    """Written once, when the completion rule is first met; never moved afterwards."""

    __tablename__ = "course_completions"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id", ondelete="RESTRICT"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
