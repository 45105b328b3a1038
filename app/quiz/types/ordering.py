"""Steps to put in order (「並べ替え」): each step gets its position 1…n in the form."""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import Field, model_validator

from app.core.errors import InvalidInput
from app.quiz.types.base import (
    ChoiceId,
    FormValues,
    ItemView,
    NonEmptyText,
    QuestionBase,
    QuestionKind,
    QuestionResult,
    QuestionType,
    Slug,
    Strict,
    shuffled,
    unique,
)


class Step(Strict):
    id: ChoiceId
    text: NonEmptyText


class OrderingQuestion(QuestionBase):
    type: Literal["ordering"]
    steps: list[Step] = Field(min_length=3, max_length=8, description="in the correct order")
    misconception: Slug | None = None

    @model_validator(mode="after")
    def _unique_steps(self) -> OrderingQuestion:
        unique([s.id for s in self.steps], "手順")
        return self


class Ordering(QuestionKind):
    type = QuestionType.ORDERING
    model = OrderingQuestion
    label = "並べ替え"
    items_field = "steps"
    answer_separator = " → "

    def display_order(self, definition: dict[str, Any], rng: random.Random, shuffle_choices: bool) -> list[str] | None:
        ids = [step["id"] for step in definition["steps"]]
        # Steps are always shown out of order, or the question answers itself.
        order = shuffled(ids, rng)
        while order == ids:
            order = shuffled(ids, rng)
        return order

    def parse_form(self, definition: dict[str, Any], values: FormValues) -> Any:
        steps = [s["id"] for s in definition["steps"]]
        positions: dict[str, int] = {}
        for step in steps:
            raw = (values.get(f"position-{step}") or [""])[0]
            if raw == "":
                return None
            if not raw.isdecimal() or not 1 <= int(raw) <= len(steps):
                raise InvalidInput(f"順番は 1〜{len(steps)} の数字で選んでください。")
            positions[step] = int(raw)
        if sorted(positions.values()) != list(range(1, len(steps) + 1)):
            raise InvalidInput("同じ順番が重複しています。すべての手順に別々の順番を付けてください。")
        return sorted(steps, key=lambda step: positions[step])

    def score(self, question: Any, answer: Any, partial_credit: bool) -> QuestionResult:
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

    def mark(self, item: ItemView, answer: Any) -> None:
        if isinstance(answer, list) and item.id in answer:
            item.position = answer.index(item.id) + 1

    def reveal(self, item: ItemView, raw: dict[str, Any], definition: dict[str, Any]) -> None:
        super().reveal(item, raw, definition)
        item.correct_position = [step["id"] for step in definition["steps"]].index(raw["id"]) + 1

    def sample_form(self, definition: dict[str, Any], *, correct: bool, rng: random.Random) -> FormValues:
        steps = [s["id"] for s in definition["steps"]]
        order = steps if correct else steps[1:] + steps[:1]
        return {f"position-{step}": [str(order.index(step) + 1)] for step in steps}


KIND = Ordering()
