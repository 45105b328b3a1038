"""What the roster did: completions over time, the lesson funnel, which questions are missed, and which
misconceptions each department still holds. Aggregated in SQL; Python only shapes the (small) results."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Integer, String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.dashboard.roster import RosterFilter, roster_query
from app.org.models import Department
from app.org.scope import Scope
from app.progress.models import CourseStatus, Enrollment, LessonProgress
from app.quiz.models import AnswerMisconception, Attempt, AttemptAnswer
from app.quiz.views import RATING_LABELS


@dataclass(frozen=True)
class FunnelRow:
    slug: str
    title: str
    opened: int
    read: int
    passed: int | None


@dataclass(frozen=True)
class ItemRow:
    question_id: str
    prompt: str
    answered: int
    correct: int
    top_wrong: str | None
    top_wrong_count: int

    @property
    def correct_rate(self) -> float:
        return round(100 * self.correct / self.answered, 1) if self.answered else 0.0


@dataclass(frozen=True)
class MisconceptionRow:
    key: str
    label: str
    correction: str
    count: int
    by_group: dict[str, int]


def _in_roster(scope: Scope, roster_filter: RosterFilter, now: datetime) -> Any:
    """The user ids on the roster, as a subquery other tables can be filtered by."""
    return roster_query(scope, roster_filter, now, Enrollment.user_id).scalar_subquery()


def _day(column: Any, dialect: str) -> Any:
    """The calendar day in Japan (the app's users' day, not UTC's)."""
    if dialect == "sqlite":
        return func.date(column, "+9 hours")
    return cast(func.timezone("Asia/Tokyo", column), Date)


async def completions_by_day(
    session: AsyncSession, *, scope: Scope, roster_filter: RosterFilter, now: datetime
) -> dict[date, int]:
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    day = _day(CourseStatus.completed_at, dialect)
    statement = (
        roster_query(scope, roster_filter, now, day.label("day"), func.count())
        .where(CourseStatus.completed_at.is_not(None))
        .group_by(day)
    )
    rows = await session.execute(statement)
    return {value if isinstance(value, date) else date.fromisoformat(str(value)): int(n) for value, n in rows}


def cumulative_series(per_day: dict[date, int], *, today: date, days: int = 30) -> list[tuple[date, int]]:
    """Completions to date for each of the last `days` days, counting those completed before the window."""
    start = today - timedelta(days=days - 1)
    running = sum(n for day, n in per_day.items() if day < start)
    series = []
    for offset in range(days):
        day = start + timedelta(days=offset)
        running += per_day.get(day, 0)
        series.append((day, running))
    return series


async def most_common_due_date(
    session: AsyncSession, *, scope: Scope, roster_filter: RosterFilter, now: datetime
) -> datetime | None:
    statement = (
        roster_query(scope, roster_filter, now, Enrollment.due_at, func.count().label("n"))
        .where(Enrollment.due_at.is_not(None))
        .group_by(Enrollment.due_at)
        .order_by(func.count().desc())
        .limit(1)
    )
    row = (await session.execute(statement)).first()
    return row[0] if row else None


async def funnel(
    session: AsyncSession,
    *,
    scope: Scope,
    roster_filter: RosterFilter,
    now: datetime,
    lessons: list[tuple[str, str, bool]],
) -> list[FunnelRow]:
    """For each (slug, title, has test): how many on the roster opened it, read it, and passed its test."""
    members = _in_roster(scope, roster_filter, now)
    reading = await session.execute(
        select(LessonProgress.lesson_slug, func.count(), func.count(LessonProgress.read_at))
        .where(LessonProgress.course_id == roster_filter.course_id, LessonProgress.user_id.in_(members))
        .group_by(LessonProgress.lesson_slug)
    )
    opened_read = {slug: (int(o), int(r)) for slug, o, r in reading}
    passing = await session.execute(
        select(Attempt.lesson_slug, func.count(func.distinct(Attempt.user_id)))
        .where(Attempt.course_id == roster_filter.course_id, Attempt.passed.is_(True), Attempt.user_id.in_(members))
        .group_by(Attempt.lesson_slug)
    )
    passed = {slug: int(n) for slug, n in passing}
    return [
        FunnelRow(slug, title, *opened_read.get(slug, (0, 0)), passed.get(slug, 0) if has_test else None)
        for slug, title, has_test in lessons
    ]


def describe_answer(definition: dict[str, Any] | None, raw: str) -> str:
    """A stored answer (JSON text) in words: the choice's text, 正しい/誤り, or the order given."""
    try:
        answer = json.loads(raw)
    except (TypeError, ValueError):
        return str(raw)
    if definition is None:
        return str(answer)
    items = {
        i["id"]: i
        for i in definition.get("choices", []) + definition.get("responses", []) + definition.get("steps", [])
    }
    if isinstance(answer, bool):
        return "正しい" if answer else "誤り"
    if isinstance(answer, str):
        item = items.get(answer, {})
        rating = RATING_LABELS.get(item.get("rating", ""))
        return f"{item.get('text', answer)}" + (f"({rating})" if rating else "")
    if isinstance(answer, list):
        separator = " → " if definition.get("type") == "ordering" else "、"
        return separator.join(str(items.get(a, {}).get("text", a)) for a in answer)
    return str(answer)


async def item_analysis(
    session: AsyncSession,
    *,
    scope: Scope,
    roster_filter: RosterFilter,
    now: datetime,
    definitions: dict[str, dict[str, Any]],
) -> list[ItemRow]:
    """Per question: answers, correct answers and the most chosen wrong answer, worst first."""
    members = _in_roster(scope, roster_filter, now)
    graded = (
        select(AttemptAnswer.question_id, AttemptAnswer.is_correct, AttemptAnswer.answer)
        .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
        .where(
            Attempt.course_id == roster_filter.course_id,
            Attempt.submitted_at.is_not(None),
            Attempt.user_id.in_(members),
        )
        .subquery()
    )
    totals = await session.execute(
        select(graded.c.question_id, func.count(), func.sum(cast(graded.c.is_correct, Integer))).group_by(
            graded.c.question_id
        )
    )
    answer_text = cast(graded.c.answer, String)
    wrong = await session.execute(
        select(graded.c.question_id, answer_text, func.count())
        .where(graded.c.is_correct.is_(False), graded.c.answer.is_not(None), answer_text != "null")
        .group_by(graded.c.question_id, answer_text)
    )
    top: dict[str, tuple[str, int]] = {}
    for question_id, raw, count in wrong:
        if question_id not in top or count > top[question_id][1]:
            top[question_id] = (raw, int(count))
    rows = []
    for question_id, answered, correct in totals:
        definition = definitions.get(question_id)
        raw, count = top.get(question_id, (None, 0))
        rows.append(
            ItemRow(
                question_id=question_id,
                prompt=(definition or {}).get("prompt", question_id),
                answered=int(answered),
                correct=int(correct or 0),
                top_wrong=describe_answer(definition, raw) if raw else None,
                top_wrong_count=count,
            )
        )
    return sorted(rows, key=lambda row: (row.correct_rate, -row.answered))


async def misconceptions(
    session: AsyncSession,
    *,
    scope: Scope,
    roster_filter: RosterFilter,
    now: datetime,
    labels: dict[str, dict[str, str]],
    groups: list[Department],
) -> list[MisconceptionRow]:
    """Misconceptions chosen on the roster, most frequent first, with the count per chart department."""
    members = _in_roster(scope, roster_filter, now)
    rows = await session.execute(
        select(AnswerMisconception.misconception, Department.path, func.count())
        .join(Attempt, Attempt.id == AnswerMisconception.attempt_id)
        .join(User, User.id == Attempt.user_id)
        .join(Department, Department.id == User.department_id, isouter=True)
        .where(Attempt.course_id == roster_filter.course_id, Attempt.user_id.in_(members))
        .group_by(AnswerMisconception.misconception, Department.path)
    )
    totals: Counter[str] = Counter()
    per_group: dict[str, Counter[str]] = defaultdict(Counter)
    for key, path, count in rows:
        totals[key] += int(count)
        owner = max((g for g in groups if path and path.startswith(g.path)), key=lambda g: len(g.path), default=None)
        if owner is not None:
            per_group[key][owner.name] += int(count)
    return [
        MisconceptionRow(
            key,
            labels.get(key, {}).get("label", key),
            labels.get(key, {}).get("correction", ""),
            count,
            dict(per_group[key].most_common()),
        )
        for key, count in totals.most_common()
    ]
