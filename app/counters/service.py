"""The counters' write API for events: grading, first opens/reads/passes, completions and standings move them by
what changed (rebuilding them from the standings is app/progress/recount.py). Counted under the learner's
department at the time of the event; people without one are not counted."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core.clock import JAPAN
from app.core.db import increment_many
from app.counters.models import (
    CompletionDayStat,
    LessonStat,
    MisconceptionStat,
    QuestionStat,
    RosterStat,
    WrongAnswerStat,
)
from app.enrolments.models import Enrollment


def answer_key(answer: Any) -> str:
    """The stored form of an answer, identical for identical answers (so they are counted together)."""
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":"), sort_keys=True)[:1000]


async def department_of(session: AsyncSession, user_id: int) -> int | None:
    """Counters are kept under the learner's department at the time of the event."""
    return await session.scalar(select(User.department_id).where(User.id == user_id))


@dataclass
class Tally:
    """Counter deltas for one course, added up in memory and written in one batch per table (in key order, so
    concurrent writers lock shared counters in the same order). Grading writes one attempt's; bulk loads write
    many at once through the same code."""

    course_id: int
    answered: Counter[tuple[int, str]] = field(default_factory=Counter)
    correct: Counter[tuple[int, str]] = field(default_factory=Counter)
    wrong: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    misconceptions: Counter[tuple[int, str]] = field(default_factory=Counter)
    lessons: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    completion_days: Counter[tuple[int, Any]] = field(default_factory=Counter)

    def graded(self, department_id: int, graded: list[tuple[str, Any, bool, list[str]]]) -> None:
        """(question id, answer, correct?, misconceptions) per question on a submitted paper."""
        for question_id, answer, correct, misconceptions in graded:
            self.answered[department_id, question_id] += 1
            self.correct[department_id, question_id] += int(correct)
            if not correct and answer is not None:
                self.wrong[department_id, question_id, answer_key(answer)] += 1
            for key in misconceptions:
                self.misconceptions[department_id, key] += 1

    def lesson_event(self, department_id: int, lesson_slug: str, event: str) -> None:
        """A first open, read or pass ("opened", "read", "passed") of a lesson."""
        self.lessons[department_id, lesson_slug, event] += 1

    def completion(self, department_id: int, when: datetime) -> None:
        self.completion_days[department_id, completion_day(when)] += 1

    async def write(self, session: AsyncSession) -> None:
        place = {"course_id": self.course_id}
        keys = ["course_id", "department_id"]
        questions = [
            {**place, "department_id": d, "question_id": q, "answered": n, "correct": self.correct[d, q]}
            for (d, q), n in self.answered.items()
        ]
        await increment_many(
            session, QuestionStat, keys=[*keys, "question_id"], deltas=["answered", "correct"], rows=questions
        )
        wrong = [
            {**place, "department_id": d, "question_id": q, "answer": a, "count": n}
            for (d, q, a), n in self.wrong.items()
        ]
        await increment_many(
            session, WrongAnswerStat, keys=[*keys, "question_id", "answer"], deltas=["count"], rows=wrong
        )
        chosen = [
            {**place, "department_id": d, "misconception": k, "count": n} for (d, k), n in self.misconceptions.items()
        ]
        await increment_many(session, MisconceptionStat, keys=[*keys, "misconception"], deltas=["count"], rows=chosen)
        events = ("opened", "read", "passed")
        lessons = [
            {**place, "department_id": d, "lesson_slug": slug, event: n, **{e: 0 for e in events if e != event}}
            for (d, slug, event), n in self.lessons.items()
        ]
        await increment_many(session, LessonStat, keys=[*keys, "lesson_slug"], deltas=list(events), rows=lessons)
        days = [{**place, "department_id": d, "day": day, "count": n} for (d, day), n in self.completion_days.items()]
        await increment_many(session, CompletionDayStat, keys=[*keys, "day"], deltas=["count"], rows=days)


async def record_graded_answers(
    session: AsyncSession, *, course_id: int, user_id: int, graded: list[tuple[str, Any, bool, list[str]]]
) -> None:
    """Count one submitted attempt: (question id, answer, correct?, misconceptions) per question on its paper."""
    department_id = await department_of(session, user_id)
    if department_id is not None:
        tally = Tally(course_id)
        tally.graded(department_id, graded)
        await tally.write(session)


class Unknown:
    """Not known to the caller: look it up."""


UNKNOWN = Unknown()


@dataclass(frozen=True)
class RosterPlace:
    """Where a learner is counted on the roster: their department and their due date in the course."""

    department_id: int
    due_at: datetime | None


def _roster_update(due_match: Any) -> Any:
    roster = RosterStat.__table__.c
    return (
        update(RosterStat.__table__)
        .where(roster.course_id == bindparam("course"), roster.department_id == bindparam("department"), due_match)
        .values(
            started=roster.started + bindparam("started_delta"),
            completed=roster.completed + bindparam("completed_delta"),
            score_sum=roster.score_sum + bindparam("score_sum_delta"),
            score_count=roster.score_count + bindparam("score_count_delta"),
        )
    )


# Built once (on every submission): a learner with a due date and one without are counted on different rows.
ROSTER_DATED = _roster_update(RosterStat.__table__.c.due_at == bindparam("due"))
ROSTER_UNDATED = _roster_update(RosterStat.__table__.c.due_at.is_(None))


async def adjust_roster(
    session: AsyncSession,
    *,
    course_id: int,
    user_id: int,
    started: int = 0,
    completed: int = 0,
    score_sum: float = 0.0,
    score_count: int = 0,
    place: RosterPlace | Unknown | None = UNKNOWN,
) -> None:
    """Apply one learner's change (first start, completion, a new best score) to their roster counter. A caller
    that knows where the learner is counted (active, enrolled, in a department) passes it; None means nowhere."""
    if not (started or completed or score_sum or score_count):
        return
    if isinstance(place, Unknown):
        row = (
            await session.execute(
                select(User.department_id, Enrollment.due_at)
                .join(Enrollment, (Enrollment.user_id == User.id) & (Enrollment.course_id == course_id))
                .where(User.id == user_id, User.is_active.is_(True))
            )
        ).first()
        place = RosterPlace(row.department_id, row.due_at) if row and row.department_id is not None else None
    if place is None:
        return  # not on the roster: nothing the dashboard counts
    statement = ROSTER_UNDATED if place.due_at is None else ROSTER_DATED
    await session.execute(
        statement,
        {
            "course": course_id,
            "department": place.department_id,
            "due": place.due_at,
            "started_delta": started,
            "completed_delta": completed,
            "score_sum_delta": score_sum,
            "score_count_delta": score_count,
        },
    )


async def count_lesson_event(
    session: AsyncSession, *, course_id: int, user_id: int, lesson_slug: str, event: str
) -> None:
    """A learner opened, read or passed a lesson for the first time: count it under their department."""
    department_id = await department_of(session, user_id)
    if department_id is not None:
        tally = Tally(course_id)
        tally.lesson_event(department_id, lesson_slug, event)
        await tally.write(session)


def completion_day(when: datetime) -> Any:
    """The calendar day (in Japan) a completion is counted on."""
    return when.astimezone(JAPAN).date()


async def count_completion(session: AsyncSession, *, course_id: int, user_id: int, when: datetime) -> None:
    """A learner completed the course: count it on the day (in Japan) under their department."""
    department_id = await department_of(session, user_id)
    if department_id is not None:
        tally = Tally(course_id)
        tally.completion(department_id, when)
        await tally.write(session)
