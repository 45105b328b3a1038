from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class Quiz(Base):
    """A lesson's 理解度テスト or a course's 修了テスト (lesson_slug NULL), frozen with its version."""

    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("course_versions.id", ondelete="CASCADE"), index=True)
    lesson_slug: Mapped[str | None] = mapped_column(String(63))
    title: Mapped[str] = mapped_column(String(200))
    pass_mark: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    draw: Mapped[int | None] = mapped_column(Integer)
    shuffle_questions: Mapped[bool] = mapped_column(Boolean)
    shuffle_choices: Mapped[bool] = mapped_column(Boolean)
    partial_credit: Mapped[bool] = mapped_column(Boolean)
    # Question definitions as validated by app.quiz.schemas, with Markdown fields rendered to safe HTML.
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


FINAL_TEST_KEY = ""


def key_for_test(lesson_slug: str | None) -> str:
    """Which test an attempt is at, never NULL: the lesson's slug, or FINAL_TEST_KEY for the course's final test."""
    return FINAL_TEST_KEY if lesson_slug is None else lesson_slug


class Attempt(Base):
    """Attempt n of a learner at one test of a course (a lesson's test or the final test, across versions)."""

    __tablename__ = "attempts"
    __table_args__ = (
        # Two requests racing to start the same attempt (a double click, two tabs, two workers) both try to
        # insert the next number, and the database lets only one of them in. The key is test_key, not
        # lesson_slug: NULLs never collide in a unique constraint, and the final test's slug is NULL.
        UniqueConstraint("user_id", "course_id", "test_key", "attempt_number"),
        CheckConstraint("test_key = COALESCE(lesson_slug, '')", name="test_key_matches_lesson_slug"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="RESTRICT"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    lesson_slug: Mapped[str | None] = mapped_column(String(63))
    test_key: Mapped[str] = mapped_column(String(63))
    attempt_number: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    # The paper as drawn for this attempt: question ids and choice orders, fixed so a reload shows the same.
    paper: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[float | None] = mapped_column(Float)
    passed: Mapped[bool | None] = mapped_column(Boolean)


class AttemptAnswer(Base):
    """One answer as given (saved on every change), graded when the attempt is submitted."""

    __tablename__ = "attempt_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(63))
    answer: Mapped[Any] = mapped_column(JSON)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    credit: Mapped[float | None] = mapped_column(Float)
    is_correct: Mapped[bool | None] = mapped_column(Boolean)
    misconceptions: Mapped[list[str] | None] = mapped_column(JSON)
