"""Scoring: pure functions from a question's definition and the answer given to a credit between 0 and 1. Each
type scores its own answers (app/quiz/types/); this module parses definitions and adds up an attempt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from app.quiz.registry import KINDS, Question
from app.quiz.types.base import QuestionResult

QUESTION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Question)


@dataclass(frozen=True)
class AttemptScore:
    percent: float
    passed: bool


def parse_question(definition: dict[str, Any]) -> Any:
    return QUESTION_ADAPTER.validate_python(definition)


def score_question(question: Any, answer: Any, *, partial_credit: bool = False) -> QuestionResult:
    """Credit for one answer; an unanswered question (answer None) scores 0 and names no misconception."""
    if answer is None:
        return QuestionResult(0.0)
    return KINDS[question.type].score(question, answer, partial_credit)


def score_attempt(results: list[QuestionResult], *, pass_mark: int) -> AttemptScore:
    """Percentage of the credit available over the questions drawn; passes at pass_mark or above."""
    if not results:
        return AttemptScore(0.0, False)
    percent = round(100 * sum(r.credit for r in results) / len(results), 1)
    return AttemptScore(percent, percent >= pass_mark)
