"""The question types, keyed by `QuestionType`: one module under app/quiz/types/ (with its `KIND`) and one template
partial under templates/quiz/types/ each. Adding a type is its `QuestionType` member, that module, that partial and
its tests: the modules are found here, and nothing outside app/quiz/ looks at a type's name."""

from __future__ import annotations

import importlib
import pkgutil
import random
from typing import Annotated, Any, Union

from pydantic import Field

from app.core.errors import InvalidInput
from app.quiz import types
from app.quiz.types.base import FormValues, QuestionKind, QuestionType


def _discover() -> dict[QuestionType, QuestionKind]:
    found: dict[QuestionType, QuestionKind] = {}
    for module_info in pkgutil.iter_modules(types.__path__):
        kind = getattr(importlib.import_module(f"{types.__name__}.{module_info.name}"), "KIND", None)
        if isinstance(kind, QuestionKind):
            found[kind.type] = kind
    missing = [member.value for member in QuestionType if member not in found]
    if missing:
        raise RuntimeError(f"no module in app/quiz/types/ defines the question type(s) {missing}")
    return {member: found[member] for member in QuestionType}  # in the enum's order: the schema's order


KINDS = _discover()
TYPE_NAMES = frozenset(kind.value for kind in KINDS)
# The quiz file's question: whichever type its `type` names (a discriminated union of the types' schemas).
Question = Annotated[Union[tuple(kind.model for kind in KINDS.values())], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007


def kind_of(definition: dict[str, Any]) -> QuestionKind:
    """The type of a stored (validated) question definition."""
    return KINDS[QuestionType(definition["type"])]


def parse_form(definition: dict[str, Any], values: FormValues) -> Any:
    """Turn the form fields of one question into its stored answer; None when nothing was chosen."""
    kind = KINDS.get(definition.get("type"))  # type: ignore[call-overload]
    if kind is None:
        raise InvalidInput("この問題には回答できません。")
    return kind.parse_form(definition, values)


def sample_form(definition: dict[str, Any], *, correct: bool, rng: random.Random) -> FormValues:
    """Form values a learner would send for this question: the right answer, or a plausible wrong one."""
    return kind_of(definition).sample_form(definition, correct=correct, rng=rng)


def describe_answer(definition: dict[str, Any] | None, answer: Any) -> str:
    """An answer in words for reports; without the question's definition, the answer as it was stored."""
    return str(answer) if definition is None else kind_of(definition).describe(definition, answer)


def misconception_keys(definition: dict[str, Any]) -> list[str]:
    return kind_of(definition).misconception_keys(definition)
