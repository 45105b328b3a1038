"""The counters behind every dashboard figure, kept per course and department and written in the same transaction
as the event they count, so a view of 100,000 employees adds up a few thousand rows."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime


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


class RosterStat(Base):
    """Per course, department and due date: how many are assigned, have started, have completed, and the sum
    and count of their best scores. The dashboard's headline and department figures add these up, so a view
    of 100,000 employees reads a few hundred rows. Rebuilt from the roster when assignments or memberships
    change (app.progress.recount.recount_roster), adjusted by each learner's first start and completion."""

    __tablename__ = "roster_stats"
    __table_args__ = (Index("ix_roster_stats_course_department", "course_id", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned: Mapped[int] = mapped_column(Integer, default=0)
    started: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    score_sum: Mapped[float] = mapped_column(Float, default=0.0)
    score_count: Mapped[int] = mapped_column(Integer, default=0)


class LessonStat(Base):
    """Per course, department and lesson: how many opened it, read it and passed its test (first time each)."""

    __tablename__ = "lesson_stats"
    __table_args__ = (UniqueConstraint("course_id", "department_id", "lesson_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    lesson_slug: Mapped[str] = mapped_column(String(63))
    opened: Mapped[int] = mapped_column(Integer, default=0)
    read: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[int] = mapped_column(Integer, default=0)


class CompletionDayStat(Base):
    """Completions per course, department and calendar day (in Japan), for the timeline chart."""

    __tablename__ = "completion_day_stats"
    __table_args__ = (UniqueConstraint("course_id", "department_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer, default=0)
