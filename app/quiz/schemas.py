"""The quiz file format: one YAML file per lesson, and the course's final test. Each question's own format is its
type's module (app/quiz/types/).

These models are the contract for content authors: `docs/content-format.md` embeds the JSON Schema
generated from them, so a field documented here is a field the importer accepts, and nothing else.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from app.quiz.registry import Question
from app.quiz.types.base import NonEmptyText, Strict, unique


class QuizFile(Strict):
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
        unique([q.id for q in self.questions], "問題")
        if self.draw is not None and self.draw > len(self.questions):
            raise ValueError(f"draw ({self.draw}) が問題数 ({len(self.questions)}) を超えています")
        return self


class FinalTest(Strict):
    """A course-wide 修了テスト that draws from every lesson's bank."""

    title: NonEmptyText
    draw: int = Field(ge=1)
    pass_mark: int = Field(default=80, ge=1, le=100)
    max_attempts: int = Field(default=0, ge=0)
    shuffle_choices: bool = True
