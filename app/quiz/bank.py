"""A test's questions as the attempt pages and grading use them: the stored definitions by question id, and each
parsed once into its type's model. A published version's banks are built once per worker (app/content/
published.py); a draft's are built when needed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from app.quiz import scoring
from app.quiz.models import Quiz


@dataclass(frozen=True)
class QuestionBank:
    definitions: Mapping[str, dict[str, Any]]  # question id → stored definition
    parsed: Mapping[str, Any]  # question id → validated question model, what scoring takes


def bank_of(quiz: Quiz) -> QuestionBank:
    definitions = {record["def"]["id"]: record["def"] for record in quiz.questions}
    parsed = {question_id: scoring.parse_question(definition) for question_id, definition in definitions.items()}
    return QuestionBank(MappingProxyType(definitions), MappingProxyType(parsed))
