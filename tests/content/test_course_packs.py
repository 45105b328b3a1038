"""The real course packs under content/: valid, of the promised length, and tests that teach."""

import re
from pathlib import Path

import pytest

from app.content import markdown
from app.content.pack import Pack, load_pack

CONTENT = Path(__file__).resolve().parents[2] / "content"


def plain_text(html: str) -> str:
    """The visible text of rendered HTML, used to measure lesson length."""
    return re.sub(r"<[^>]+>", "", html)


PACKS = sorted(path for path in CONTENT.iterdir() if (path / "course.yaml").exists())


@pytest.fixture(scope="module", params=PACKS, ids=[path.name for path in PACKS])
def pack(request: pytest.FixtureRequest) -> Pack:
    return load_pack(request.param)


def test_both_courses_ship() -> None:
    assert {path.name for path in PACKS} >= {"kasuhara-basics", "kasuhara-practice"}


def test_every_lesson_is_15_to_25_minutes_of_reading(pack: Pack) -> None:
    for lesson in pack.lessons:
        if lesson.is_appendix:
            continue
        body = markdown.substitute_variables(lesson.body, pack.course.variables)
        visible = "".join(plain_text(markdown.render(body).html).split())
        assert 4000 <= len(visible) <= 8000, f"{lesson.file}: {len(visible)} characters"
        assert 15 <= lesson.front.minutes <= 25, lesson.file


def test_every_lesson_has_cases_boxes_and_a_summary(pack: Pack) -> None:
    for lesson in pack.lessons:
        if lesson.is_appendix:
            continue
        kinds = set(markdown.admonition_types(lesson.body))
        assert {"point", "caution", "case"} <= kinds, lesson.file
        headings = [item["title"] for item in markdown.render(lesson.body).toc if item["level"] == 2]
        assert any("まとめ" in str(title) for title in headings), lesson.file


def test_every_question_explains_and_every_wrong_answer_names_a_misconception(pack: Pack) -> None:
    for lesson in pack.lessons:
        if lesson.quiz is None:
            continue
        for question in lesson.quiz.questions:
            assert len(question.explanation) >= 20, f"{lesson.quiz_file}: {question.id}"
            wrong = [c for c in getattr(question, "choices", []) if not c.correct]
            wrong += [r for r in getattr(question, "responses", []) if r.rating in ("risky", "harmful")]
            assert all(item.misconception for item in wrong), f"{lesson.quiz_file}: {question.id}"
            if question.type in ("true_false", "ordering"):
                assert question.misconception, f"{lesson.quiz_file}: {question.id}"


def test_basics_tests_have_12_questions_8_drawn_80_percent_half_scenarios() -> None:
    basics = load_pack(CONTENT / "kasuhara-basics")
    quizzes = [lesson.quiz for lesson in basics.lessons if lesson.quiz]
    assert len(quizzes) == 4
    for quiz in quizzes:
        assert len(quiz.questions) >= 12
        assert quiz.draw == 8 and quiz.pass_mark == 80
        assert sum(q.type == "scenario" for q in quiz.questions) * 2 >= len(quiz.questions)
    assert basics.course.final_test is not None and basics.course.final_test.draw == 20
    assert {"introduction", "glossary"} <= {lesson.slug for lesson in basics.lessons if lesson.is_appendix}


def test_every_test_is_at_least_half_scenario_judgement(pack: Pack) -> None:
    for lesson in pack.lessons:
        if lesson.quiz is not None:
            scenarios = sum(question.type == "scenario" for question in lesson.quiz.questions)
            assert scenarios * 2 >= len(lesson.quiz.questions), f"{lesson.quiz_file}: {scenarios} scenarios"


def test_practice_manual_test_has_at_least_12_questions() -> None:
    practice = load_pack(CONTENT / "kasuhara-practice")
    manual = next(lesson for lesson in practice.lessons if lesson.slug == "response-manual")
    assert manual.quiz is not None and len(manual.quiz.questions) >= 12


def test_dates_that_may_change_come_from_variables() -> None:
    for path in PACKS:
        for file in (path / "lessons").glob("*.md"):
            text = file.read_text(encoding="utf-8")
            assert "2026年10月1日" not in text, f"{file}: write {{{{ law_effective_date }}}} instead"
