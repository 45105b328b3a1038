"""A statement to judge 正しい or 誤り."""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import Field

from app.core.errors import InvalidInput
from app.quiz.types.base import FormValues, QuestionBase, QuestionKind, QuestionResult, QuestionType, Slug, given_values


class TrueFalseQuestion(QuestionBase):
    type: Literal["true_false"]
    answer: bool
    misconception: Slug | None = Field(default=None, description="the misconception behind the wrong answer")
    feedback_wrong: str | None = None


class TrueFalse(QuestionKind):
    type = QuestionType.TRUE_FALSE
    model = TrueFalseQuestion
    label = "正誤"

    def display_order(self, definition: dict[str, Any], rng: random.Random, shuffle_choices: bool) -> list[str] | None:
        return None  # the two answers are always shown 正しい, 誤り

    def parse_form(self, definition: dict[str, Any], values: FormValues) -> Any:
        given = given_values(values)
        if not given:
            return None
        if given[0] not in ("true", "false"):
            raise InvalidInput("「正しい」か「誤り」を選んでください。")
        return given[0] == "true"

    def score(self, question: Any, answer: Any, partial_credit: bool) -> QuestionResult:
        if isinstance(answer, bool) and answer == question.answer:
            return QuestionResult(1.0)
        wrong_answer_given = isinstance(answer, bool)
        return QuestionResult(0.0, [question.misconception] if question.misconception and wrong_answer_given else [])

    def correct_bool(self, definition: dict[str, Any]) -> bool | None:
        return definition.get("answer")

    def sample_form(self, definition: dict[str, Any], *, correct: bool, rng: random.Random) -> FormValues:
        return {"answer": ["true" if definition["answer"] == correct else "false"]}


KIND = TrueFalse()
