"""What the roster did: completions over time, the lesson funnel, which questions are missed, and which
misconceptions each department still holds. Aggregated in SQL; Python only shapes the (small) results."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.counters.models import (
    CompletionDayStat,
    LessonStat,
    MisconceptionStat,
    QuestionStat,
    RosterStat,
    WrongAnswerStat,
)
from app.dashboard.roster import RosterFilter
from app.org.models import Department
from app.org.scope import Scope
from app.quiz import registry


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
    # Which test it is in and, for a scene question, the scene's opening: five prompts read 「どう対応しますか。」
    # (defaults: snapshots computed before these existed still load)
    test: str = ""
    scene: str = ""

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


async def completions_by_day(
    session: AsyncSession, *, scope: Scope, roster_filter: RosterFilter, now: datetime
) -> dict[date, int]:
    """Completions per day (in Japan) in the departments in view, from the daily counters."""
    rows = await session.execute(
        select(CompletionDayStat.day, func.sum(CompletionDayStat.count))
        .join(Department, Department.id == CompletionDayStat.department_id)
        .where(*_stats_in_scope(CompletionDayStat, scope, roster_filter))
        .group_by(CompletionDayStat.day)
    )
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
    """The due date that applies to the most people in view."""
    statement = (
        select(RosterStat.due_at, func.sum(RosterStat.assigned))
        .join(Department, Department.id == RosterStat.department_id)
        .where(*_stats_in_scope(RosterStat, scope, roster_filter), RosterStat.due_at.is_not(None))
        .group_by(RosterStat.due_at)
        .order_by(func.sum(RosterStat.assigned).desc())
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
    """For each (slug, title, has test): how many opened it, read it and passed its test, from the counters."""
    rows = await session.execute(
        select(
            LessonStat.lesson_slug, func.sum(LessonStat.opened), func.sum(LessonStat.read), func.sum(LessonStat.passed)
        )
        .join(Department, Department.id == LessonStat.department_id)
        .where(*_stats_in_scope(LessonStat, scope, roster_filter))
        .group_by(LessonStat.lesson_slug)
    )
    counts = {slug: (int(o), int(r), int(p)) for slug, o, r, p in rows}
    rows_out = []
    for slug, title, has_test in lessons:
        opened, read, passed = counts.get(slug, (0, 0, 0))
        rows_out.append(FunnelRow(slug, title, opened, read, passed if has_test else None))
    return rows_out


def describe_answer(definition: dict[str, Any] | None, raw: str) -> str:
    """A stored answer (JSON text) in words: the choice's text, 正しい/誤り, or the order given."""
    try:
        answer = json.loads(raw)
    except (TypeError, ValueError):
        return str(raw)
    return registry.describe_answer(definition, answer)


SCENE_EXCERPT_CHARS = 40


def scene_excerpt(scene: str | None) -> str:
    """The scene's opening words as plain text (its Markdown marks dropped), enough to tell scenes apart."""
    if not scene:
        return ""
    text = " ".join(re.sub(r"[*_`#>\[\]]|\(https?://[^)]*\)", "", scene).split())
    return text if len(text) <= SCENE_EXCERPT_CHARS else text[: SCENE_EXCERPT_CHARS - 1] + "…"


def _stats_in_scope(model: Any, scope: Scope, roster_filter: RosterFilter) -> list[Any]:
    """WHERE clauses keeping the counters of this course in the scope (and the chosen department's subtree)."""
    where = [model.course_id == roster_filter.course_id, scope.department_filter(Department.path)]
    if roster_filter.department_path:
        where.append(Department.path.startswith(roster_filter.department_path, autoescape=True))
    return where


async def item_analysis(
    session: AsyncSession,
    *,
    scope: Scope,
    roster_filter: RosterFilter,
    now: datetime,
    definitions: dict[str, dict[str, Any]],
    tests: dict[str, str] | None = None,
) -> list[ItemRow]:
    """Per question: answers, correct answers and the most chosen wrong answer, worst first. `tests` names the
    test each question belongs to (by question id)."""
    totals = await session.execute(
        select(QuestionStat.question_id, func.sum(QuestionStat.answered), func.sum(QuestionStat.correct))
        .join(Department, Department.id == QuestionStat.department_id)
        .where(*_stats_in_scope(QuestionStat, scope, roster_filter))
        .group_by(QuestionStat.question_id)
    )
    wrong = await session.execute(
        select(WrongAnswerStat.question_id, WrongAnswerStat.answer, func.sum(WrongAnswerStat.count))
        .join(Department, Department.id == WrongAnswerStat.department_id)
        .where(*_stats_in_scope(WrongAnswerStat, scope, roster_filter))
        .group_by(WrongAnswerStat.question_id, WrongAnswerStat.answer)
    )
    top: dict[str, tuple[str, int]] = {}
    for question_id, raw, count in wrong:
        if question_id not in top or int(count) > top[question_id][1]:
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
                test=(tests or {}).get(question_id, ""),
                scene=scene_excerpt((definition or {}).get("scene")),
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
    """Misconceptions chosen in the scope, most frequent first, with the count per chart department."""
    # Each department's counts go to the chart group whose subtree holds it; the deepest group wins.
    groups_deepest_first = sorted(groups, key=lambda g: len(g.path), reverse=True)
    group_of = (
        case(*[(Department.path.startswith(g.path, autoescape=True), g.name) for g in groups_deepest_first], else_="")
        if groups
        else literal("")
    )
    rows = await session.execute(
        select(MisconceptionStat.misconception, group_of, func.sum(MisconceptionStat.count))
        .join(Department, Department.id == MisconceptionStat.department_id)
        .where(*_stats_in_scope(MisconceptionStat, scope, roster_filter))
        .group_by(MisconceptionStat.misconception, group_of)
    )
    totals: Counter[str] = Counter()
    per_group: dict[str, Counter[str]] = defaultdict(Counter)
    for key, group_name, count in rows:
        totals[key] += int(count)
        if group_name:
            per_group[key][group_name] += int(count)
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
