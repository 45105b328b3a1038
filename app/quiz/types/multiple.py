"""Every correct choice among several (「当てはまるものをすべて選ぶ」): all or nothing, or partial credit."""

from __future__ import annotations

import random
from typing import Any, Literal

from pydantic import Field, model_validator

from app.core.errors import InvalidInput
from app.quiz.types.base import (
    FormValues,
    ItemView,
    QuestionBase,
    QuestionKind,
    QuestionResult,
    QuestionType,
    given_values,
    unique,
)
from app.quiz.types.single import Choice


class MultipleChoiceQuestion(QuestionBase):
    type: Literal["multiple"]
    choices: list[Choice] = Field(min_length=2, max_length=10)

    @model_validator(mode="after")
    def _at_least_one_correct(self) -> MultipleChoiceQuestion:
        unique([c.id for c in self.choices], "選択肢")
        if not any(c.correct for c in self.choices):
            raise ValueError("multiple の問題には正解 (correct: true) が1つ以上必要です")
        return self


class MultipleChoice(QuestionKind):
    type = QuestionType.MULTIPLE
    model = MultipleChoiceQuestion
    label = "当てはまるものをすべて選ぶ"
    items_field = "choices"

    def parse_form(self, definition: dict[str, Any], values: FormValues) -> Any:
        given = given_values(values)
        options = {c["id"] for c in definition["choices"]}
        if any(value not in options for value in given):
            raise InvalidInput("選択肢にない回答が含まれています。")
        return sorted(set(given)) or None

    def score(self, question: Any, answer: Any, partial_credit: bool) -> QuestionResult:
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

    def mark(self, item: ItemView, answer: Any) -> None:
        item.chosen = isinstance(answer, list) and item.id in answer

    def sample_form(self, definition: dict[str, Any], *, correct: bool, rng: random.Random) -> FormValues:
        right = [c["id"] for c in definition["choices"] if c.get("correct")]
        wrong = [c["id"] for c in definition["choices"] if not c.get("correct")]
        return {"answer": right if correct or not wrong else [*right[:-1], wrong[0]]}


KIND = MultipleChoice()
