"""Scoring: pure functions from a question's definition and the answer given to a credit between 0 and 1."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter

from app.quiz.schemas import (
    RATING_CREDIT,
    MultipleChoiceQuestion,
    OrderingQuestion,
    Question,
    ScenarioQuestion,
    SingleChoiceQuestion,
    TrueFalseQuestion,
)

QUESTION_ADAPTER: TypeAdapter[Any] = TypeAdapter(Question)


@dataclass(frozen=True)
class QuestionResult:
    credit: float
    misconceptions: list[str] = field(default_factory=list)

    @property
    def is_correct(self) -> bool:
        return self.credit >= 1.0


@dataclass(frozen=True)
class AttemptScore:
    percent: float
    passed: bool


def parse_question(definition: dict[str, Any]) -> Any:
    return QUESTION_ADAPTER.validate_python(definition)


def _single(question: SingleChoiceQuestion, answer: Any) -> QuestionResult:
    chosen = next((c for c in question.choices if c.id == answer), None)
    if chosen is None:
        return QuestionResult(0.0)
    if chosen.correct:
        return QuestionResult(1.0)
    return QuestionResult(0.0, [chosen.misconception] if chosen.misconception else [])


def _multiple(question: MultipleChoiceQuestion, answer: Any, partial_credit: bool) -> QuestionResult:
    picked = set(answer) if isinstance(answer, list) else set()
    correct = {c.id for c in question.choices if c.correct}
    wrong_picks = [c for c in question.choices if c.id in picked and not c.correct]
    misconceptions = [c.misconception for c in wrong_picks if c.misconception]
    if picked == correct:
        return QuestionResult(1.0)
    if not partial_credit:
        return QuestionResult(0.0, misconceptions)
    right_picks = len(picked & correct)
    credit = max(0.0, (right_picks - len(wrong_picks)) / len(correct))
    return QuestionResult(round(credit, 4), misconceptions)


def _true_false(question: TrueFalseQuestion, answer: Any) -> QuestionResult:
    if isinstance(answer, bool) and answer == question.answer:
        return QuestionResult(1.0)
    wrong_answer_given = isinstance(answer, bool)
    return QuestionResult(0.0, [question.misconception] if question.misconception and wrong_answer_given else [])


def _ordering(question: OrderingQuestion, answer: Any, partial_credit: bool) -> QuestionResult:
    expected = [step.id for step in question.steps]
    if not isinstance(answer, list) or sorted(answer) != sorted(expected):
        return QuestionResult(0.0)
    if answer == expected:
        return QuestionResult(1.0)
    misconceptions = [question.misconception] if question.misconception else []
    if not partial_credit:
        return QuestionResult(0.0, misconceptions)
    in_place = sum(1 for given, right in zip(answer, expected, strict=True) if given == right)
    return QuestionResult(round(in_place / len(expected), 4), misconceptions)


def _scenario(question: ScenarioQuestion, answer: Any) -> QuestionResult:
    chosen = next((r for r in question.responses if r.id == answer), None)
    if chosen is None:
        return QuestionResult(0.0)
    credit = chosen.credit if chosen.credit is not None else RATING_CREDIT[chosen.rating]
    return QuestionResult(credit, [chosen.misconception] if chosen.misconception else [])


def score_question(question: Any, answer: Any, *, partial_credit: bool = False) -> QuestionResult:
    """Credit for one answer; an unanswered question (answer None) scores 0 and names no misconception."""
    if answer is None:
        return QuestionResult(0.0)
    match question:
        case SingleChoiceQuestion():
            return _single(question, answer)
        case MultipleChoiceQuestion():
            return _multiple(question, answer, partial_credit)
        case TrueFalseQuestion():
            return _true_false(question, answer)
        case OrderingQuestion():
            return _ordering(question, answer, partial_credit)
        case ScenarioQuestion():
            return _scenario(question, answer)
    raise TypeError(f"unknown question type: {type(question).__name__}")


def score_attempt(results: list[QuestionResult], *, pass_mark: int) -> AttemptScore:
    """Percentage of the credit available over the questions drawn; passes at pass_mark or above."""
    if not results:
        return AttemptScore(0.0, False)
    percent = round(100 * sum(r.credit for r in results) / len(results), 1)
    return AttemptScore(percent, percent >= pass_mark)
