"""The counters' one write API: grading, first opens/reads/passes, completions and standings move them by what
changed. Counted under the learner's department at the time of the event; people without one are not counted."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core.clock import JAPAN
from app.core.db import increment, increment_many
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


async def _department_of(session: AsyncSession, user_id: int) -> int | None:
    """Counters are kept under the learner's department at the time of the event."""
    return await session.scalar(select(User.department_id).where(User.id == user_id))


async def record_graded_answers(
    session: AsyncSession, *, course_id: int, user_id: int, graded: list[tuple[str, Any, bool, list[str]]]
) -> None:
    """Count one submitted attempt: (question id, answer, correct?, misconceptions) per question on its paper."""
    department_id = await _department_of(session, user_id)
    if department_id is not None:
        await record_graded_answers_in(session, course_id=course_id, department_id=department_id, graded=graded)


async def record_graded_answers_in(
    session: AsyncSession, *, course_id: int, department_id: int, graded: list[tuple[str, Any, bool, list[str]]]
) -> None:
    """Count graded answers under a known department (a whole batch of attempts at once, for bulk loads)."""
    place = {"course_id": course_id, "department_id": department_id}
    questions, wrong, misconceptions_chosen = [], [], []
    for question_id, answer, correct, misconceptions in graded:
        questions.append({**place, "question_id": question_id, "answered": 1, "correct": int(correct)})
        if not correct and answer is not None:
            wrong.append({**place, "question_id": question_id, "answer": answer_key(answer), "count": 1})
        misconceptions_chosen += [{**place, "misconception": key, "count": 1} for key in misconceptions]
    # One batch per table: a submission touches a dozen counters, and a statement each was most of its cost.
    keys = ["course_id", "department_id"]
    await increment_many(
        session, QuestionStat, keys=[*keys, "question_id"], deltas=["answered", "correct"], rows=questions
    )
    await increment_many(session, WrongAnswerStat, keys=[*keys, "question_id", "answer"], deltas=["count"], rows=wrong)
    await increment_many(
        session, MisconceptionStat, keys=[*keys, "misconception"], deltas=["count"], rows=misconceptions_chosen
    )


async def adjust_roster(
    session: AsyncSession,
    *,
    course_id: int,
    user_id: int,
    started: int = 0,
    completed: int = 0,
    score_sum: float = 0.0,
    score_count: int = 0,
) -> None:
    """Apply one learner's change (first start, completion, a new best score) to their roster counter."""
    if not (started or completed or score_sum or score_count):
        return
    row = (
        await session.execute(
            select(User.department_id, Enrollment.due_at)
            .join(Enrollment, (Enrollment.user_id == User.id) & (Enrollment.course_id == course_id))
            .where(User.id == user_id, User.is_active.is_(True))
        )
    ).first()
    if row is None or row.department_id is None:
        return  # not on the roster: nothing the dashboard counts
    due_match = RosterStat.due_at.is_(None) if row.due_at is None else RosterStat.due_at == row.due_at
    await session.execute(
        update(RosterStat)
        .where(RosterStat.course_id == course_id, RosterStat.department_id == row.department_id, due_match)
        .values(
            started=RosterStat.started + started,
            completed=RosterStat.completed + completed,
            score_sum=RosterStat.score_sum + score_sum,
            score_count=RosterStat.score_count + score_count,
        )
    )


async def count_lesson_event(
    session: AsyncSession, *, course_id: int, user_id: int, lesson_slug: str, event: str
) -> None:
    """A learner opened, read or passed a lesson for the first time: count it under their department."""
    department_id = await _department_of(session, user_id)
    if department_id is None:
        return
    keys = {"course_id": course_id, "department_id": department_id, "lesson_slug": lesson_slug}
    await increment(session, LessonStat, keys=keys, deltas={event: 1})


def completion_day(when: datetime) -> Any:
    """The calendar day (in Japan) a completion is counted on."""
    return when.astimezone(JAPAN).date()


async def count_completion(session: AsyncSession, *, course_id: int, user_id: int, when: datetime) -> None:
    """A learner completed the course: count it on the day (in Japan) under their department."""
    department_id = await _department_of(session, user_id)
    if department_id is None:
        return
    keys = {"course_id": course_id, "department_id": department_id, "day": completion_day(when)}
    await increment(session, CompletionDayStat, keys=keys, deltas={"count": 1})
