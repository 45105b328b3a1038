"""One correct choice among several (「1つ選ぶ」)."""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import Field, model_validator

from app.quiz.types.base import (
    ChoiceId,
    FormValues,
    NonEmptyText,
    PickOne,
    QuestionBase,
    QuestionResult,
    QuestionType,
    Slug,
    Strict,
    unique,
)


class Choice(Strict):
    id: ChoiceId
    text: NonEmptyText
    correct: bool = False
    feedback: str | None = Field(default=None, description="shown after submission when this choice was picked")
    misconception: Slug | None = Field(
        default=None, description="key of a misconception defined in course.yaml; expected on wrong choices"
    )


class SingleChoiceQuestion(QuestionBase):
    type: Literal["single"]
    choices: list[Choice] = Field(min_length=2, max_length=8)

    @model_validator(mode="after")
    def _exactly_one_correct(self) -> SingleChoiceQuestion:
        unique([c.id for c in self.choices], "選択肢")
        if sum(c.correct for c in self.choices) != 1:
            raise ValueError("single の問題には正解 (correct: true) がちょうど1つ必要です")
        return self


class SingleChoice(PickOne):
    type = QuestionType.SINGLE
    model = SingleChoiceQuestion
    label = "1つ選ぶ"
    items_field = "choices"

    def score(self, question: Any, answer: Any, partial_credit: bool) -> QuestionResult:
        chosen = next((c for c in question.choices if c.id == answer), None)
        if chosen is None:
            return QuestionResult(0.0)
        if chosen.correct:
            return QuestionResult(1.0)
        return QuestionResult(0.0, [chosen.misconception] if chosen.misconception else [])

    def sample_form(self, definition: dict[str, Any], *, correct: bool, rng: random.Random) -> FormValues:
        ids = [c["id"] for c in definition["choices"] if bool(c.get("correct")) == correct]
        return {"answer": [rng.choice(ids)]}


KIND = SingleChoice()
