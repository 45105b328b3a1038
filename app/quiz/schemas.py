"""The quiz file format (one YAML file per lesson) and the shapes the quiz engine passes around.

These models are the contract for content authors: `docs/content-format.md` embeds the JSON Schema
generated from them, so a field documented here is a field the importer accepts, and nothing else.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="lower-case letters, digits and '-'")]
ChoiceId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,30}$")]
NonEmptyText = Annotated[str, Field(min_length=1, max_length=4000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QuestionType(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"
    ORDERING = "ordering"
    SCENARIO = "scenario"


class Rating(StrEnum):
    """How good a response to a workplace scene is; the default credit of each is in RATING_CREDIT."""

    BEST = "best"
    ACCEPTABLE = "acceptable"
    RISKY = "risky"
    HARMFUL = "harmful"


RATING_CREDIT: dict[Rating, float] = {
    Rating.BEST: 1.0,
    Rating.ACCEPTABLE: 0.5,
    Rating.RISKY: 0.0,
    Rating.HARMFUL: 0.0,
}


class Choice(_Strict):
    id: ChoiceId
    text: NonEmptyText
    correct: bool = False
    feedback: str | None = Field(default=None, description="shown after submission when this choice was picked")
    misconception: Slug | None = Field(
        default=None, description="key of a misconception defined in course.yaml; expected on wrong choices"
    )


class Response(_Strict):
    """One possible response to a scenario, graded by how a trained colleague would judge it."""

    id: ChoiceId
    text: NonEmptyText
    rating: Rating
    credit: float | None = Field(default=None, ge=0, le=1, description="overrides the rating's default credit")
    rationale: NonEmptyText
    misconception: Slug | None = None


class Step(_Strict):
    id: ChoiceId
    text: NonEmptyText


class _QuestionBase(_Strict):
    id: Slug = Field(description="unique within the course; keep it stable across versions")
    prompt: NonEmptyText = Field(description="Markdown")
    explanation: NonEmptyText = Field(description="Markdown, shown after submission: teach, do not just repeat")


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise ValueError(f"{what} の id「{item_id}」が重複しています")
        seen.add(item_id)


class SingleChoiceQuestion(_QuestionBase):
    type: Literal["single"]
    choices: list[Choice] = Field(min_length=2, max_length=8)

    @model_validator(mode="after")
    def _exactly_one_correct(self) -> SingleChoiceQuestion:
        _unique([c.id for c in self.choices], "選択肢")
        if sum(c.correct for c in self.choices) != 1:
            raise ValueError("single の問題には正解 (correct: true) がちょうど1つ必要です")
        return self


class MultipleChoiceQuestion(_QuestionBase):
    type: Literal["multiple"]
    choices: list[Choice] = Field(min_length=2, max_length=10)

    @model_validator(mode="after")
    def _at_least_one_correct(self) -> MultipleChoiceQuestion:
        _unique([c.id for c in self.choices], "選択肢")
        if not any(c.correct for c in self.choices):
            raise ValueError("multiple の問題には正解 (correct: true) が1つ以上必要です")
        return self


class TrueFalseQuestion(_QuestionBase):
    type: Literal["true_false"]
    answer: bool
    misconception: Slug | None = Field(default=None, description="the misconception behind the wrong answer")
    feedback_wrong: str | None = None


class OrderingQuestion(_QuestionBase):
    type: Literal["ordering"]
    steps: list[Step] = Field(min_length=3, max_length=8, description="in the correct order")
    misconception: Slug | None = None

    @model_validator(mode="after")
    def _unique_steps(self) -> OrderingQuestion:
        _unique([s.id for s in self.steps], "手順")
        return self


class ScenarioQuestion(_QuestionBase):
    type: Literal["scenario"]
    scene: NonEmptyText = Field(description="Markdown: the workplace scene")
    responses: list[Response] = Field(min_length=3, max_length=6)

    @model_validator(mode="after")
    def _has_best(self) -> ScenarioQuestion:
        _unique([r.id for r in self.responses], "対応")
        if not any(r.rating is Rating.BEST for r in self.responses):
            raise ValueError("scenario の問題には rating: best の対応が1つ以上必要です")
        return self


Question = Annotated[
    SingleChoiceQuestion | MultipleChoiceQuestion | TrueFalseQuestion | OrderingQuestion | ScenarioQuestion,
    Field(discriminator="type"),
]


class QuizFile(_Strict):
    """One lesson's 理解度テスト."""

    title: NonEmptyText
    pass_mark: int = Field(default=80, ge=1, le=100, description="percent")
    max_attempts: int = Field(default=0, ge=0, description="0 = unlimited")
    shuffle_questions: bool = True
    shuffle_choices: bool = True
    draw: int | None = Field(default=None, ge=1, description="questions drawn per attempt; all when absent")
    partial_credit: bool = Field(default=False, description="multiple-choice questions score partially")
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _draw_fits(self) -> QuizFile:
        _unique([q.id for q in self.questions], "問題")
        if self.draw is not None and self.draw > len(self.questions):
            raise ValueError(f"draw ({self.draw}) が問題数 ({len(self.questions)}) を超えています")
        return self


class FinalTest(_Strict):
    """A course-wide 修了テスト that draws from every lesson's bank."""

    title: NonEmptyText
    draw: int = Field(ge=1)
    pass_mark: int = Field(default=80, ge=1, le=100)
    max_attempts: int = Field(default=0, ge=0)
    shuffle_choices: bool = True
