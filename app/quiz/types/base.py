"""What every question type shares: the field types of the quiz file format, the results and view models the
engine passes around, and `QuestionKind`, the one class per type that the registry (app/quiz/registry.py) maps
`QuestionType` to. A type says how it is written (its schema), shown (display order, view items, partial),
answered (form parsing), scored, described in reports and answered by a simulated learner."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from app.core.errors import InvalidInput

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="lower-case letters, digits and '-'")]
ChoiceId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,30}$")]
NonEmptyText = Annotated[str, Field(min_length=1, max_length=4000)]
FormValues = dict[str, list[str]]


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
RATING_LABELS = {"best": "最善", "acceptable": "許容", "risky": "危うい", "harmful": "不適切"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QuestionBase(Strict):
    id: Slug = Field(description="unique within the course; keep it stable across versions")
    prompt: NonEmptyText = Field(description="Markdown")
    explanation: NonEmptyText = Field(description="Markdown, shown after submission: teach, do not just repeat")


def unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item_id in ids:
        if item_id in seen:
            raise ValueError(f"{what} の id「{item_id}」が重複しています")
        seen.add(item_id)


@dataclass(frozen=True)
class QuestionResult:
    credit: float
    misconceptions: list[str] = field(default_factory=list)

    @property
    def is_correct(self) -> bool:
        return self.credit >= 1.0


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


def shuffled(items: list[str], rng: random.Random) -> list[str]:
    copy = list(items)
    rng.shuffle(copy)
    return copy


class QuestionKind:
    """One question type. Subclasses set the class attributes and override what differs from these defaults."""

    type: ClassVar[QuestionType]
    model: ClassVar[type[QuestionBase]]
    label: ClassVar[str]  # shown beside the question number
    items_field: ClassVar[str | None] = None  # the definition's list of things to pick or order
    answer_separator: ClassVar[str] = "、"  # between the parts of a list answer in reports

    @property
    def partial(self) -> str:
        """The template with this type's macros: answer (the inputs), review (after submission), preview."""
        return f"quiz/types/_{self.type.value}.html"

    def items(self, definition: dict[str, Any]) -> list[dict[str, Any]]:
        return list(definition.get(self.items_field, [])) if self.items_field else []

    def display_order(self, definition: dict[str, Any], rng: random.Random, shuffle_choices: bool) -> list[str] | None:
        """The order its items are shown in on a paper (None: nothing to order); draws from `rng` only when
        shuffling, so papers drawn before keep their order."""
        ids = [item["id"] for item in self.items(definition)]
        return shuffled(ids, rng) if shuffle_choices else ids

    def parse_form(self, definition: dict[str, Any], values: FormValues) -> Any:
        """The stored answer from this question's form fields; None when nothing was chosen."""
        raise NotImplementedError

    def score(self, question: Any, answer: Any, partial_credit: bool) -> QuestionResult:
        """Credit for an answer that is not None."""
        raise NotImplementedError

    def mark(self, item: ItemView, answer: Any) -> None:
        """Show on the item what the learner answered (before or after submission)."""

    def reveal(self, item: ItemView, raw: dict[str, Any], definition: dict[str, Any]) -> None:
        """Show on the item what is right, once the attempt is submitted."""
        item.correct = raw.get("correct")
        item.rating = raw.get("rating")
        item.rating_label = RATING_LABELS.get(raw.get("rating", ""))
        item.note = raw.get("rationale") or raw.get("feedback")

    def correct_bool(self, definition: dict[str, Any]) -> bool | None:
        return None

    def misconception_keys(self, definition: dict[str, Any]) -> list[str]:
        """Every misconception the question can name, the question's own first."""
        keys = [definition.get("misconception")] + [item.get("misconception") for item in self.items(definition)]
        return [key for key in dict.fromkeys(keys) if key]

    def describe(self, definition: dict[str, Any], answer: Any) -> str:
        """A stored answer in words for reports: the choice's text (with its rating), 正しい/誤り, or the parts."""
        items = {item["id"]: item for item in self.items(definition)}
        if isinstance(answer, bool):
            return "正しい" if answer else "誤り"
        if isinstance(answer, str):
            item = items.get(answer, {})
            rating = RATING_LABELS.get(item.get("rating", ""))
            return f"{item.get('text', answer)}" + (f"({rating})" if rating else "")
        if isinstance(answer, list):
            return self.answer_separator.join(str(items.get(a, {}).get("text", a)) for a in answer)
        return str(answer)

    def sample_form(self, definition: dict[str, Any], *, correct: bool, rng: random.Random) -> FormValues:
        """Form values a learner would send: the right answer, or a plausible wrong one (demo data, benchmarks)."""
        raise NotImplementedError


class PickOne(QuestionKind):
    """A type whose answer is the id of the one item picked (a choice, a response)."""

    def parse_form(self, definition: dict[str, Any], values: FormValues) -> Any:
        return one_of(self.items(definition), values)

    def mark(self, item: ItemView, answer: Any) -> None:
        item.chosen = answer == item.id


def given_values(values: FormValues) -> list[str]:
    """The non-empty values of the question's `answer` field (a hidden empty one marks a cleared checkbox list)."""
    return [value for value in values.get("answer", []) if value != ""]


def one_of(definition_items: list[dict[str, Any]], values: FormValues) -> str | None:
    """The single option chosen, or None; anything else is refused."""
    given = given_values(values)
    if not given:
        return None
    if len(given) != 1 or given[0] not in {item["id"] for item in definition_items}:
        raise InvalidInput("選択肢から1つ選んでください。")
    return given[0]
