from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class Reminder(Base):
    """A 督促 sent to one employee about one course, with the mail it produced."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuestionStat(Base):
    """Answers and correct answers per question and department, counted at grading, so item analysis reads
    a few thousand counters instead of millions of answers."""

    __tablename__ = "question_stats"
    __table_args__ = (UniqueConstraint("course_id", "department_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(63))
    answered: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)


class WrongAnswerStat(Base):
    """How often each wrong answer (as stored JSON text) was given, per question and department."""

    __tablename__ = "wrong_answer_stats"
    __table_args__ = (UniqueConstraint("course_id", "department_id", "question_id", "answer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(63))
    answer: Mapped[str] = mapped_column(String(1000))
    count: Mapped[int] = mapped_column(Integer, default=0)


class MisconceptionStat(Base):
    """How often each misconception was chosen, per department."""

    __tablename__ = "misconception_stats"
    __table_args__ = (UniqueConstraint("course_id", "department_id", "misconception"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    misconception: Mapped[str] = mapped_column(String(63))
    count: Mapped[int] = mapped_column(Integer, default=0)
