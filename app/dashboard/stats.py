"""Counters behind item analysis and the misconception ranking, kept current at grading time."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.core.db import increment
from app.dashboard.models import MisconceptionStat, QuestionStat, WrongAnswerStat


def answer_key(answer: Any) -> str:
    """The stored form of an answer, identical for identical answers (so they are counted together)."""
    return json.dumps(answer, ensure_ascii=False, separators=(",", ":"), sort_keys=True)[:1000]


async def record_graded_answers(
    session: AsyncSession, *, course_id: int, user_id: int, graded: list[tuple[str, Any, bool, list[str]]]
) -> None:
    """Count one submitted attempt: (question id, answer, correct?, misconceptions) per question on its paper.
    Counted under the learner's department at the time; employees without a department are not counted."""
    department_id = await session.scalar(select(User.department_id).where(User.id == user_id))
    if department_id is None:
        return
    place = {"course_id": course_id, "department_id": department_id}
    for question_id, answer, correct, misconceptions in graded:
        await increment(session, QuestionStat, keys={**place, "question_id": question_id},
                        deltas={"answered": 1, "correct": int(correct)})  # fmt: skip
        if not correct and answer is not None:
            await increment(session, WrongAnswerStat,
                            keys={**place, "question_id": question_id, "answer": answer_key(answer)},
                            deltas={"count": 1})  # fmt: skip
        for key in misconceptions:
            await increment(session, MisconceptionStat, keys={**place, "misconception": key}, deltas={"count": 1})
