"""Counters behind item analysis and the misconception ranking, kept current at grading time."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core.db import increment, increment_many
from app.dashboard.models import MisconceptionStat, QuestionStat, WrongAnswerStat


def answer_key(answer: Any) -> str:
    """The stored form of an answer, identical for identical answers (so they are counted together)."""
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":"), sort_keys=True)[:1000]


async def _department_of(session: AsyncSession, user_id: int) -> int | None:
    """Counters are kept under the learner's department at the time of the event."""
    return await session.scalar(select(User.department_id).where(User.id == user_id))


async def record_graded_answers(
    session: AsyncSession, *, course_id: int, user_id: int, graded: list[tuple[str, Any, bool, list[str]]]
) -> None:
    """Count one submitted attempt: (question id, answer, correct?, misconceptions) per question on its paper.
    Counted under the learner's department at the time; employees without a department are not counted."""
    department_id = await _department_of(session, user_id)
    if department_id is None:
        return
    place = {"course_id": course_id, "department_id": department_id}
    questions, wrong, misconceptions_chosen = [], [], []
    for question_id, answer, correct, misconceptions in graded:
        questions.append({**place, "question_id": question_id, "answered": 1, "correct": int(correct)})
        if not correct and answer is not None:
            wrong.append({**place, "question_id": question_id, "answer": answer_key(answer), "count": 1})
        misconceptions_chosen += [{**place, "misconception": key, "count": 1} for key in misconceptions]
    # One batch per table: a submission touches a dozen counters, and a statement each was most of its cost.
    keys = ["course_id", "department_id"]
    await increment_many(session, QuestionStat, keys=[*keys, "question_id"], deltas=["answered", "correct"],
                         rows=questions)  # fmt: skip
    await increment_many(session, WrongAnswerStat, keys=[*keys, "question_id", "answer"], deltas=["count"], rows=wrong)
    await increment_many(session, MisconceptionStat, keys=[*keys, "misconception"], deltas=["count"],
                         rows=misconceptions_chosen)  # fmt: skip


async def recount_roster(session: AsyncSession, *, course_id: int, department_ids: list[int] | None = None) -> None:
    """Rebuild the roster counters of a course (or of some departments) from enrollments and statuses.
    Call after anything that changes who is enrolled, their due date, department or active flag."""
    from sqlalchemy import delete, func, insert

    from app.dashboard.models import RosterStat
    from app.progress.models import CourseStatus, Enrollment

    stale = delete(RosterStat).where(RosterStat.course_id == course_id)
    if department_ids is not None:
        stale = stale.where(RosterStat.department_id.in_(department_ids))
    await session.execute(stale)
    counts = (
        select(
            Enrollment.course_id, User.department_id, Enrollment.due_at, func.count(),
            func.count(CourseStatus.started_at), func.count(CourseStatus.completed_at),
            func.coalesce(func.sum(CourseStatus.best_score), 0.0), func.count(CourseStatus.best_score),
        )
        .join(User, User.id == Enrollment.user_id)
        .outerjoin(CourseStatus, (CourseStatus.user_id == Enrollment.user_id) & (CourseStatus.course_id == course_id))
        .where(Enrollment.course_id == course_id, User.is_active.is_(True), User.department_id.is_not(None))
        .group_by(Enrollment.course_id, User.department_id, Enrollment.due_at)
    )  # fmt: skip
    if department_ids is not None:
        counts = counts.where(User.department_id.in_(department_ids))
    columns = ["course_id", "department_id", "due_at", "assigned", "started", "completed", "score_sum", "score_count"]
    await session.execute(insert(RosterStat).from_select(columns, counts))


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
    from sqlalchemy import update

    from app.dashboard.models import RosterStat
    from app.progress.models import Enrollment

    if not (started or completed or score_sum or score_count):
        return
    row = (await session.execute(
        select(User.department_id, Enrollment.due_at)
        .join(Enrollment, (Enrollment.user_id == User.id) & (Enrollment.course_id == course_id))
        .where(User.id == user_id, User.is_active.is_(True))
    )).first()  # fmt: skip
    if row is None or row.department_id is None:
        return  # not on the roster: nothing the dashboard counts
    due_match = RosterStat.due_at.is_(None) if row.due_at is None else RosterStat.due_at == row.due_at
    await session.execute(
        update(RosterStat)
        .where(RosterStat.course_id == course_id, RosterStat.department_id == row.department_id, due_match)
        .values(started=RosterStat.started + started, completed=RosterStat.completed + completed,
                score_sum=RosterStat.score_sum + score_sum, score_count=RosterStat.score_count + score_count)
    )  # fmt: skip


async def count_lesson_event(
    session: AsyncSession, *, course_id: int, user_id: int, lesson_slug: str, event: str
) -> None:
    """A learner opened, read or passed a lesson for the first time: count it under their department."""
    from app.dashboard.models import LessonStat

    department_id = await _department_of(session, user_id)
    if department_id is None:
        return
    await increment(session, LessonStat, keys={"course_id": course_id, "department_id": department_id,
                                               "lesson_slug": lesson_slug}, deltas={event: 1})  # fmt: skip


async def count_completion(session: AsyncSession, *, course_id: int, user_id: int, when: datetime) -> None:
    """A learner completed the course: count it on the day (in Japan) under their department."""
    from app.core.templating import TIMEZONE
    from app.dashboard.models import CompletionDayStat

    department_id = await _department_of(session, user_id)
    if department_id is None:
        return
    await increment(
        session,
        CompletionDayStat,
        keys={"course_id": course_id, "department_id": department_id, "day": when.astimezone(TIMEZONE).date()},
        deltas={"count": 1},
    )


async def recount_completion_days(session: AsyncSession, *, course_id: int) -> None:
    """Rebuild the daily completion counters of a course from the completions themselves."""
    from collections import Counter

    from sqlalchemy import delete

    from app.core.templating import TIMEZONE
    from app.dashboard.models import CompletionDayStat
    from app.progress.models import CourseCompletion

    rows = await session.execute(
        select(User.department_id, CourseCompletion.completed_at)
        .join(User, User.id == CourseCompletion.user_id)
        .where(CourseCompletion.course_id == course_id, User.department_id.is_not(None))
    )
    days: Counter[tuple[int, Any]] = Counter()
    for department_id, completed_at in rows:
        days[department_id, completed_at.astimezone(TIMEZONE).date()] += 1
    await session.execute(delete(CompletionDayStat).where(CompletionDayStat.course_id == course_id))
    session.add_all(
        CompletionDayStat(course_id=course_id, department_id=d, day=day, count=n) for (d, day), n in days.items()
    )
    await session.flush()
