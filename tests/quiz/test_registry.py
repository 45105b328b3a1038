"""Question types are a registry: every `QuestionType` has its module and its template partial, and nothing
outside app/quiz/ decides anything by a type's name."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from jinja2 import TemplateNotFound

from app.core.templating import environment
from app.quiz.registry import KINDS, TYPE_NAMES
from app.quiz.types.base import QuestionType
from app.quiz.views import QuestionView

APP = Path(__file__).resolve().parents[2] / "app"


def test_every_type_has_a_kind_keyed_by_it() -> None:
    assert list(KINDS) == list(QuestionType)
    assert all(kind.type is key for key, kind in KINDS.items())
    assert {member.value for member in QuestionType} == TYPE_NAMES


@pytest.mark.parametrize("question_type", list(QuestionType))
def test_every_type_has_a_partial_with_its_three_macros(question_type: QuestionType) -> None:
    kind = KINDS[question_type]
    try:
        module = environment("ja").get_template(kind.partial).module
    except TemplateNotFound:
        pytest.fail(f"{kind.partial} is missing")
    view = QuestionView(
        number=1,
        id="q",
        type=question_type.value,
        type_label=kind.label,
        prompt_html="",
        scene_html=None,
        items=[],
        answered=False,
    )
    for macro in ("answer", "review", "preview"):
        assert callable(getattr(module, macro, None)), f"{kind.partial} has no macro {macro}"
        getattr(module, macro)(view)  # renders without the page around it


def branches_on_type_names(source: str) -> list[int]:
    """Lines that compare something with a question type's name, or match on one."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            constants = [
                c.value
                for part in (node.left, *node.comparators)
                for c in ast.walk(part)
                if isinstance(c, ast.Constant)
            ]
            if any(isinstance(value, str) and value in TYPE_NAMES for value in constants):
                lines.append(node.lineno)
        if isinstance(node, ast.MatchValue) and isinstance(node.value, ast.Constant) and node.value.value in TYPE_NAMES:
            lines.append(node.lineno)
    return lines


def test_no_module_outside_the_quiz_branches_on_a_type_name() -> None:
    modules = [path for path in APP.rglob("*.py") if APP / "quiz" not in path.parents]
    found = [f"{path}:{line}" for path in modules for line in branches_on_type_names(path.read_text(encoding="utf-8"))]
    assert found == []


def test_the_check_finds_a_branch_on_a_type_name() -> None:
    assert branches_on_type_names('if definition["type"] == "ordering":\n    pass\n') == [1]
    assert branches_on_type_names('if kind in ("single", "scenario"):\n    pass\n') == [1]
    assert branches_on_type_names('match kind:\n    case "multiple":\n        pass\n') == [2]
    assert branches_on_type_names('questions = [{"type": "single"}]\n') == []


def test_no_template_outside_the_quiz_branches_on_a_type_name() -> None:
    pattern = re.compile(r"\.type\s*(==|!=|in\b|not in\b)")
    templates = [path for path in APP.rglob("*.html") if APP / "quiz" not in path.parents]
    assert [str(path.relative_to(APP.parent)) for path in templates if pattern.search(path.read_text())] == []
