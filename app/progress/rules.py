"""Completion rules as pure functions: what counts as done, and where a learner should go next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class LessonStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    READ = "read"
    PASSED = "passed"
    REREAD = "reread"


STATUS_LABELS = {
    LessonStatus.NOT_STARTED: "未受講",
    LessonStatus.IN_PROGRESS: "学習中",
    LessonStatus.READ: "読了",
    LessonStatus.PASSED: "テスト合格",
    LessonStatus.REREAD: "要再読",
}


@dataclass(frozen=True)
class LessonState:
    slug: str
    has_quiz: bool
    opened: bool
    read: bool
    passed: bool
    reread_required: bool = False

    @property
    def status(self) -> LessonStatus:
        if self.reread_required:
            return LessonStatus.REREAD
        if self.has_quiz and self.passed and self.read:
            return LessonStatus.PASSED
        if self.read:
            return LessonStatus.READ
        if self.opened or self.passed:
            return LessonStatus.IN_PROGRESS
        return LessonStatus.NOT_STARTED


def reading_counts(read_version_number: int, required_since: int | None) -> bool:
    """A reading counts unless the lesson changed later and its publisher asked everyone to read it again."""
    return required_since is None or read_version_number >= required_since


@dataclass(frozen=True)
class Reading:
    read: bool  # the lesson is read, as far as completion is concerned
    reread_required: bool  # it was read, but that reading no longer counts


def reading(
    read_at: datetime | None, read_version_number: int, required_since: int | None, cycle_started_at: datetime | None
) -> Reading:
    """Whether a learner's latest reading of a lesson counts: it must be of a version the publisher did not ask to
    read again since, and in the learner's current training cycle."""
    counts = (
        read_at is not None
        and reading_counts(read_version_number, required_since)
        and (cycle_started_at is None or read_at >= cycle_started_at)
    )
    return Reading(read=counts, reread_required=read_at is not None and not counts)


@dataclass(frozen=True)
class NextStep:
    kind: str  # "lesson", "quiz", "final" or "done"
    slug: str | None = None


def _steps(rule: dict[str, Any], lessons: list[LessonState], has_final: bool, final_passed: bool) -> list[bool]:
    steps: list[bool] = []
    if rule.get("all_lessons_read", True):
        steps += [lesson.read for lesson in lessons]
    if rule.get("all_quizzes_passed", True):
        steps += [lesson.passed for lesson in lessons if lesson.has_quiz]
    if has_final and rule.get("final_test_passed", True):
        steps.append(final_passed)
    return steps


def is_complete(rule: dict[str, Any], lessons: list[LessonState], *, has_final: bool, final_passed: bool) -> bool:
    """Completed when every required lesson is read and every required test passed."""
    steps = _steps(rule, lessons, has_final, final_passed)
    return bool(steps) and all(steps)


def progress_percent(rule: dict[str, Any], lessons: list[LessonState], *, has_final: bool, final_passed: bool) -> int:
    steps = _steps(rule, lessons, has_final, final_passed)
    return round(100 * sum(steps) / len(steps)) if steps else 0


def next_step(lessons: list[LessonState], *, has_final: bool, final_passed: bool) -> NextStep:
    """The first thing left to do, in course order: read the lesson, then pass its test."""
    for lesson in lessons:
        if not lesson.read:
            return NextStep("lesson", lesson.slug)
        if lesson.has_quiz and not lesson.passed:
            return NextStep("quiz", lesson.slug)
    if has_final and not final_passed:
        return NextStep("final")
    return NextStep("done")
