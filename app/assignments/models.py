from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class Assignment(Base):
    """A course assigned to a department (and everyone in its subtree, now or later) or to one user."""

    __tablename__ = "assignments"
    __table_args__ = (CheckConstraint("(department_id IS NULL) <> (user_id IS NULL)", name="one_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Recurring training (e.g. every 12 months): the next cycle opens `recur_months` after this one opened, as a
    # new assignment pointing back at this one, with its due date moved by the same interval.
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recur_months: Mapped[int | None] = mapped_column(Integer)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id", ondelete="SET NULL"), unique=True)
