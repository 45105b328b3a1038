from typing import Any

import pytest

from app.quiz.scoring import QuestionResult, parse_question, score_attempt, score_question

SINGLE = {
    "id": "s",
    "type": "single",
    "prompt": "p",
    "explanation": "e",
    "choices": [
        {"id": "a", "text": "A", "correct": True},
        {"id": "b", "text": "B", "misconception": "customer-is-god"},
        {"id": "c", "text": "C"},
    ],
}
MULTIPLE = {
    "id": "m",
    "type": "multiple",
    "prompt": "p",
    "explanation": "e",
    "choices": [
        {"id": "a", "text": "A", "correct": True},
        {"id": "b", "text": "B", "correct": True},
        {"id": "c", "text": "C", "misconception": "apologize-everything"},
        {"id": "d", "text": "D"},
    ],
}
TRUE_FALSE = {
    "id": "t",
    "type": "true_false",
    "prompt": "p",
    "explanation": "e",
    "answer": False,
    "misconception": "apologize-everything",
}
ORDERING = {
    "id": "o",
    "type": "ordering",
    "prompt": "p",
    "explanation": "e",
    "misconception": "endure",
    "steps": [
        {"id": "one", "text": "1"},
        {"id": "two", "text": "2"},
        {"id": "three", "text": "3"},
        {"id": "four", "text": "4"},
    ],
}
SCENARIO = {
    "id": "sc",
    "type": "scenario",
    "prompt": "p",
    "explanation": "e",
    "scene": "s",
    "responses": [
        {"id": "best", "text": "B", "rating": "best", "rationale": "r"},
        {"id": "ok", "text": "O", "rating": "acceptable", "rationale": "r"},
        {"id": "risky", "text": "R", "rating": "risky", "rationale": "r", "misconception": "apologize-everything"},
        {"id": "harm", "text": "H", "rating": "harmful", "rationale": "r", "misconception": "customer-is-god"},
        {"id": "custom", "text": "C", "rating": "acceptable", "credit": 0.75, "rationale": "r"},
    ],
}


def score(definition: dict[str, Any], answer: Any, partial: bool = False) -> QuestionResult:
    return score_question(parse_question(definition), answer, partial_credit=partial)


@pytest.mark.parametrize(
    ("answer", "credit", "misconceptions"),
    [("a", 1.0, []), ("b", 0.0, ["customer-is-god"]), ("c", 0.0, []), ("zzz", 0.0, []), (None, 0.0, [])],
)
def test_single_choice(answer: Any, credit: float, misconceptions: list[str]) -> None:
    result = score(SINGLE, answer)
    assert (result.credit, result.misconceptions) == (credit, misconceptions)


@pytest.mark.parametrize(
    ("answer", "all_or_nothing", "partial"),
    [
        (["a", "b"], 1.0, 1.0),
        (["b", "a"], 1.0, 1.0),
        (["a"], 0.0, 0.5),
        (["a", "b", "c"], 0.0, 0.5),
        (["a", "c"], 0.0, 0.0),
        (["c", "d"], 0.0, 0.0),
        ([], 0.0, 0.0),
    ],
)
def test_multiple_choice_all_or_nothing_unless_partial(
    answer: list[str], all_or_nothing: float, partial: float
) -> None:
    assert score(MULTIPLE, answer).credit == all_or_nothing
    assert score(MULTIPLE, answer, partial=True).credit == partial


def test_multiple_choice_names_misconceptions_of_wrong_picks() -> None:
    assert score(MULTIPLE, ["a", "c"]).misconceptions == ["apologize-everything"]


@pytest.mark.parametrize(
    ("answer", "credit", "misconceptions"),
    [(False, 1.0, []), (True, 0.0, ["apologize-everything"]), (None, 0.0, []), ("false", 0.0, [])],
)
def test_true_false(answer: Any, credit: float, misconceptions: list[str]) -> None:
    result = score(TRUE_FALSE, answer)
    assert (result.credit, result.misconceptions) == (credit, misconceptions)


def test_ordering_whole_order_or_share_in_place() -> None:
    assert score(ORDERING, ["one", "two", "three", "four"]).credit == 1.0
    swapped = ["one", "two", "four", "three"]
    assert score(ORDERING, swapped).credit == 0.0
    assert score(ORDERING, swapped).misconceptions == ["endure"]
    assert score(ORDERING, swapped, partial=True).credit == 0.5
    assert score(ORDERING, ["one", "two"]).credit == 0.0  # not a full ordering
    assert score(ORDERING, ["one", "one", "two", "three"]).credit == 0.0


@pytest.mark.parametrize(
    ("answer", "credit", "correct", "misconceptions"),
    [
        ("best", 1.0, True, []),
        ("ok", 0.5, False, []),
        ("risky", 0.0, False, ["apologize-everything"]),
        ("harm", 0.0, False, ["customer-is-god"]),
        ("custom", 0.75, False, []),
        ("missing", 0.0, False, []),
    ],
)
def test_scenario_graded_by_rating(answer: str, credit: float, correct: bool, misconceptions: list[str]) -> None:
    result = score(SCENARIO, answer)
    assert (result.credit, result.is_correct, result.misconceptions) == (credit, correct, misconceptions)


def test_attempt_score_is_share_of_credit_and_passes_at_the_mark() -> None:
    results = [QuestionResult(1.0)] * 3 + [QuestionResult(0.5), QuestionResult(0.0)]
    assert score_attempt(results, pass_mark=70).percent == 70.0
    assert score_attempt(results, pass_mark=70).passed is True
    assert score_attempt(results, pass_mark=71).passed is False
    assert score_attempt([], pass_mark=80).passed is False
