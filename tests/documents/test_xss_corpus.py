"""The browser XSS corpus (tests/e2e/test_xss_documents.py) without a browser: it reaches every field of every
step, the new ones included, and what the generators make of it renders as inert text."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from app.content.markdown import render
from app.documents.builder import policy_markdown
from app.documents.manual import MANUAL_STEPS, manual_markdown
from app.documents.policy_steps import POLICY_STEPS
from app.documents.service import KINDS, draft_answers
from app.documents.wizard import Step, document_body, parse_step_form
from tests.e2e.test_xss_documents import hostile_fields
from tests.e2e.xss_payloads import EVALUATED

ACTIVE = {
    "script",
    "iframe",
    "img",
    "svg",
    "object",
    "embed",
    "style",
    "form",
    "input",
    "link",
    "meta",
    "base",
    "video",
}


def as_form(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {}
    for name, value in fields:
        form.setdefault(name, []).append(value)
    return form


def assert_inert(html: str) -> None:
    soup = BeautifulSoup(html, "html.parser")
    assert [tag.name for tag in soup.find_all(ACTIVE)] == []
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            assert not name.lower().startswith("on"), (tag.name, name)
            if name in ("href", "src"):
                assert str(value).startswith(("http://", "https://", "mailto:", "#")), value
    text = soup.get_text()
    assert not any(marker in text for marker in EVALUATED)


@pytest.mark.parametrize("step", [*POLICY_STEPS, *MANUAL_STEPS], ids=lambda step: step.key)
def test_the_corpus_reaches_every_field_of_every_step(step: Step) -> None:
    fields = hostile_fields(step, 0)
    assert {name for name, _value in fields} == {field.name for field in step.fields}
    for field in step.fields:
        if field.kind == "choices":
            assert [value for name, value in fields if name == field.name] == [option.key for option in field.options]
    values, errors = parse_step_form(step, as_form(fields))
    assert errors == {}, errors
    assert all(values[field.name] for field in step.fields)


@pytest.mark.parametrize("offset", [0, 1, 2])
def test_the_policy_made_of_the_corpus_is_inert(offset: int) -> None:
    draft: dict[str, object] = {}
    for step in POLICY_STEPS:
        values, errors = parse_step_form(step, as_form(hostile_fields(step, offset)))
        assert errors == {}
        draft.update(values)
    answers = draft_answers(KINDS["policy"], draft)
    assert answers.cooperation_desk == draft["cooperation_desk"]
    assert answers.service_duty_note == draft["service_duty_note"]
    assert_inert(render(policy_markdown(answers)).html)  # type: ignore[arg-type]


def test_the_manual_made_of_the_corpus_is_inert() -> None:
    draft: dict[str, object] = {}
    for step in MANUAL_STEPS:
        values, errors = parse_step_form(step, as_form(hostile_fields(step, 0)))
        assert errors == {}
        draft.update(values)
    answers = draft_answers(KINDS["manual"], draft)
    assert_inert(render(document_body(manual_markdown(answers))).html)  # type: ignore[arg-type]
