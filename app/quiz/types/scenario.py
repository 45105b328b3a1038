"""A workplace scene and the responses a colleague might give (「場面判断」), each rated like a trainer would."""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import Field, model_validator

from app.quiz.types.base import (
    RATING_CREDIT,
    ChoiceId,
    FormValues,
    NonEmptyText,
    PickOne,
    QuestionBase,
    QuestionResult,
    QuestionType,
    Rating,
    Slug,
    Strict,
    unique,
)


class Response(Strict):
    """One possible response to a scenario, graded by how a trained colleague would judge it."""

    id: ChoiceId
    text: NonEmptyText
    rating: Rating
    credit: float | None = Field(default=None, ge=0, le=1, description="overrides the rating's default credit")
    rationale: NonEmptyText
    misconception: Slug | None = None


class ScenarioQuestion(QuestionBase):
    type: Literal["scenario"]
    scene: NonEmptyText = Field(description="Markdown: the workplace scene")
    responses: list[Response] = Field(min_length=3, max_length=6)

    @model_validator(mode="after")
    def _has_best(self) -> ScenarioQuestion:
        unique([r.id for r in self.responses], "対応")
        if not any(r.rating is Rating.BEST for r in self.responses):
            raise ValueError("scenario の問題には rating: best の対応が1つ以上必要です")
        return self


class Scenario(PickOne):
    type = QuestionType.SCENARIO
    model = ScenarioQuestion
    label = "場面判断"
    items_field = "responses"

    def score(self, question: Any, answer: Any, partial_credit: bool) -> QuestionResult:
        chosen = next((r for r in question.responses if r.id == answer), None)
        if chosen is None:
            return QuestionResult(0.0)
        credit = chosen.credit if chosen.credit is not None else RATING_CREDIT[chosen.rating]
        return QuestionResult(credit, [chosen.misconception] if chosen.misconception else [])

    def sample_form(self, definition: dict[str, Any], *, correct: bool, rng: random.Random) -> FormValues:
        ratings = ("best",) if correct else ("risky", "harmful", "acceptable")
        ids = [r["id"] for r in definition["responses"] if r["rating"] in ratings]
        return {"answer": [rng.choice(ids)]}


KIND = Scenario()
