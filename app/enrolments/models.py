"""Who is enrolled in which course: written by assignments (the roster they produce), read by the quiz,
progress and every report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, UniqueConstraint
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
    # Set when a recurring assignment opens a new training cycle: readings and attempts before it no longer
    # count, so the learner trains again (their history and earlier certificates stay).
    cycle_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
