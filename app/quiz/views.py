"""What a template may see of a paper. Before submission: texts only, never which answer is right."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.quiz.models import Attempt, AttemptAnswer, Quiz

RATING_LABELS = {"best": "最善", "acceptable": "許容", "risky": "危うい", "harmful": "不適切"}
TYPE_LABELS = {
    "single": "1つ選ぶ",
    "multiple": "当てはまるものをすべて選ぶ",
    "true_false": "正誤",
    "ordering": "並べ替え",
    "scenario": "場面判断",
}


@dataclass
class ItemView:
    id: str
    text: str
    chosen: bool = False
    position: int | None = None  # ordering: the position the learner gave
    # Revealed only after submission:
    correct: bool | None = None
    correct_position: int | None = None
    rating: str | None = None
    rating_label: str | None = None
    note: str | None = None  # feedback on a choice, or a response's rationale


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
    chosen_bool: bool | None = None  # true_false
    revealed: bool = False
    credit: float | None = None
    is_correct: bool | None = None
    explanation_html: str | None = None
    correct_bool: bool | None = None
    misconceptions: list[dict[str, str]] = field(default_factory=list)


def _items(definition: dict[str, Any], order: list[str] | None) -> list[dict[str, Any]]:
    pool = definition.get("choices") or definition.get("responses") or definition.get("steps") or []
    by_id = {item["id"]: item for item in pool}
    return [by_id[item_id] for item_id in (order or list(by_id))]


def question_views(
    quiz: Quiz,
    attempt: Attempt,
    answers: dict[str, AttemptAnswer],
    *,
    misconception_labels: dict[str, dict[str, str]] | None = None,
) -> list[QuestionView]:
    reveal = attempt.submitted_at is not None
    records = {record["def"]["id"]: record for record in quiz.questions}
    views: list[QuestionView] = []
    for number, entry in enumerate(attempt.paper, start=1):
        record = records[entry["id"]]
        definition, html = record["def"], record["html"]
        row = answers.get(entry["id"])
        answer = row.answer if row else None
        kind = definition["type"]
        items: list[ItemView] = []
        correct_order = [step["id"] for step in definition.get("steps", [])]
        for raw in _items(definition, entry.get("order")):
            item = ItemView(id=raw["id"], text=raw["text"])
            if kind in ("single", "scenario"):
                item.chosen = answer == raw["id"]
            elif kind == "multiple":
                item.chosen = isinstance(answer, list) and raw["id"] in answer
            elif kind == "ordering" and isinstance(answer, list) and raw["id"] in answer:
                item.position = answer.index(raw["id"]) + 1
            if reveal:
                item.correct = raw.get("correct")
                item.rating = raw.get("rating")
                item.rating_label = RATING_LABELS.get(raw.get("rating", ""))
                item.note = raw.get("rationale") or raw.get("feedback")
                if kind == "ordering":
                    item.correct_position = correct_order.index(raw["id"]) + 1
            items.append(item)
        view = QuestionView(
            number=number, id=entry["id"], type=kind, type_label=TYPE_LABELS[kind],
            prompt_html=html.get("prompt", ""), scene_html=html.get("scene"), items=items,
            answered=answer is not None, chosen_bool=answer if isinstance(answer, bool) else None,
        )  # fmt: skip
        if reveal:
            view.revealed = True
            view.credit = row.credit if row else 0.0
            view.is_correct = bool(row and row.is_correct)
            view.explanation_html = html.get("explanation")
            view.correct_bool = definition.get("answer") if kind == "true_false" else None
            labels = misconception_labels or {}
            view.misconceptions = [labels[key] for key in (row.misconceptions or []) if key in labels] if row else []
        views.append(view)
    return views
