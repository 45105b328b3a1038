"""What a template may see of a paper. Before submission: texts only, never which answer is right."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.quiz.models import Attempt, AttemptAnswer, Quiz
from app.quiz.registry import kind_of, misconception_keys
from app.quiz.types.base import ItemView


@dataclass
class QuestionView:
    number: int
    id: str
    type: str
    type_label: str
    prompt_html: str
    scene_html: str | None
    items: list[ItemView]
    answered: bool
    chosen_bool: bool | None = None  # an answer that is 正しい/誤り
    revealed: bool = False
    credit: float | None = None
    is_correct: bool | None = None
    explanation_html: str | None = None
    correct_bool: bool | None = None
    misconceptions: list[dict[str, str]] = field(default_factory=list)

    @property
    def partial(self) -> str:
        """The template with this question type's macros."""
        return kind_of({"type": self.type}).partial


def _items(definition: dict[str, Any], order: list[str] | None) -> list[dict[str, Any]]:
    by_id = {item["id"]: item for item in kind_of(definition).items(definition)}
    return [by_id[item_id] for item_id in (order or list(by_id))]


def question_views(
    quiz: Quiz,
    paper: list[dict[str, Any]],
    answers: Mapping[str, AttemptAnswer],
    *,
    reveal: bool,
    misconception_labels: dict[str, dict[str, str]] | None = None,
) -> list[QuestionView]:
    """The questions of a paper as drawn, with the learner's answers; what is right only when `reveal`."""
    records = {record["def"]["id"]: record for record in quiz.questions}
    views: list[QuestionView] = []
    for number, entry in enumerate(paper, start=1):
        record = records[entry["id"]]
        definition, html = record["def"], record["html"]
        kind = kind_of(definition)
        row = answers.get(entry["id"])
        answer = row.answer if row else None
        items: list[ItemView] = []
        for raw in _items(definition, entry.get("order")):
            item = ItemView(id=raw["id"], text=raw["text"])
            kind.mark(item, answer)
            if reveal:
                kind.reveal(item, raw, definition)
            items.append(item)
        view = QuestionView(
            number=number,
            id=entry["id"],
            type=kind.type.value,
            type_label=kind.label,
            prompt_html=html.get("prompt", ""),
            scene_html=html.get("scene"),
            items=items,
            answered=answer is not None,
            chosen_bool=answer if isinstance(answer, bool) else None,
        )
        if reveal:
            view.revealed = True
            view.credit = row.credit if row else 0.0
            view.is_correct = bool(row and row.is_correct)
            view.explanation_html = html.get("explanation")
            view.correct_bool = kind.correct_bool(definition)
            labels = misconception_labels or {}
            view.misconceptions = [labels[key] for key in (row.misconceptions or []) if key in labels] if row else []
        views.append(view)
    return views


def attempt_views(
    quiz: Quiz,
    attempt: Attempt,
    answers: Mapping[str, AttemptAnswer],
    *,
    misconception_labels: dict[str, dict[str, str]] | None = None,
) -> list[QuestionView]:
    """An attempt's paper: answers only while it is open, with what is right once it is submitted."""
    return question_views(
        quiz, attempt.paper, answers, reveal=attempt.submitted_at is not None, misconception_labels=misconception_labels
    )


def preview_views(quiz: Quiz) -> list[QuestionView]:
    """Every question of a quiz in file order, with what is right: the admin's preview of a test."""
    paper = [{"id": record["def"]["id"]} for record in quiz.questions]
    return question_views(quiz, paper, {}, reveal=True)


def misconceptions_by_question(quiz: Quiz, labels: dict[str, Any]) -> dict[str, list[Any]]:
    """Per question, the misconceptions its wrong answers can name (for the preview)."""
    return {
        record["def"]["id"]: [labels[key] for key in misconception_keys(record["def"]) if key in labels]
        for record in quiz.questions
    }
