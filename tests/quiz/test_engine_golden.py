"""The question engine as it behaved before question types became a registry, per type: scores (with and without
partial credit), form parsing and its refusals, display orders of seeded papers, what templates see of a paper,
how analysis words an answer, and the demo's sample answers. `golden/engine.json` was recorded from the engine
at commit 8575864 over 38 questions of the shipped packs (8 of each type, all 6 ordering questions)."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from app.core.errors import InvalidInput
from app.dashboard.analysis import describe_answer
from app.quiz import scoring
from app.quiz.paper import draw_paper
from app.quiz.registry import parse_form, sample_form
from app.quiz.views import question_views

GOLDEN = json.loads((Path(__file__).parent / "golden" / "engine.json").read_text(encoding="utf-8"))
TYPES = ["single", "multiple", "true_false", "ordering", "scenario"]


def cases_of(kind: str) -> list[dict[str, Any]]:
    return [case for case in GOLDEN["cases"] if case["definition"]["type"] == kind]


def test_the_recording_covers_every_type() -> None:
    assert {case["definition"]["type"] for case in GOLDEN["cases"]} == set(TYPES)


@pytest.mark.parametrize("kind", TYPES)
def test_scores_are_unchanged(kind: str) -> None:
    for case in cases_of(kind):
        question = scoring.parse_question(case["definition"])
        for expected in case["scores"]:
            result = scoring.score_question(question, expected["answer"], partial_credit=expected["partial"])
            assert (result.credit, result.misconceptions) == (expected["credit"], expected["misconceptions"]), (
                case["definition"]["id"],
                expected["answer"],
                expected["partial"],
            )


@pytest.mark.parametrize("kind", TYPES)
def test_form_parsing_is_unchanged(kind: str) -> None:
    for case in cases_of(kind):
        for expected in case["parsed"]:
            try:
                outcome = {"form": expected["form"], "answer": parse_form(case["definition"], expected["form"])}
            except InvalidInput as error:
                outcome = {"form": expected["form"], "error": error.message}
            assert outcome == expected, case["definition"]["id"]


@pytest.mark.parametrize("kind", TYPES)
def test_answers_are_described_and_sampled_as_before(kind: str) -> None:
    for case in cases_of(kind):
        definition = case["definition"]
        assert [{"raw": d["raw"], "text": describe_answer(definition, d["raw"])} for d in case["described"]] == case[
            "described"
        ]
        for sample in case["samples"]:
            form = sample_form(definition, correct=sample["correct"], rng=random.Random(sample["seed"]))
            assert form == sample["form"], (definition["id"], sample)


def test_papers_are_drawn_and_ordered_as_before() -> None:
    definitions = [case["definition"] for case in GOLDEN["cases"]]
    for expected in GOLDEN["papers"]:
        paper = draw_paper(
            definitions,
            seed=expected["seed"],
            draw=expected["draw"],
            shuffle_questions=expected["shuffle_questions"],
            shuffle_choices=expected["shuffle_choices"],
        )
        assert paper == expected["paper"]


def test_templates_see_the_same_paper() -> None:
    definitions = [case["definition"] for case in GOLDEN["cases"]]
    records = [
        {
            "def": d,
            "html": {
                "prompt": "<p>p</p>",
                "explanation": "<p>e</p>",
                **({"scene": "<p>s</p>"} if d.get("scene") else {}),
            },
        }
        for d in definitions
    ]
    by_id = {case["definition"]["id"]: case for case in GOLDEN["cases"]}
    quiz = SimpleNamespace(questions=records)
    labels = {"customer-is-god": {"label": "L", "correction": "C"}}
    for expected in GOLDEN["views"]:
        paper = draw_paper(definitions, seed=expected["seed"], draw=None, shuffle_questions=True, shuffle_choices=True)
        answers = {}
        for question_id, answer in expected["answers"].items():
            result = scoring.score_question(scoring.parse_question(by_id[question_id]["definition"]), answer)
            answers[question_id] = SimpleNamespace(
                answer=answer, credit=result.credit, is_correct=result.is_correct, misconceptions=result.misconceptions
            )
        views = question_views(quiz, paper, answers, reveal=expected["submitted"], misconception_labels=labels)  # type: ignore[arg-type]
        assert [json.loads(json.dumps(dataclasses.asdict(v), default=str)) for v in views] == expected["views"]
