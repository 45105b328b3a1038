"""XSS through the company's policy, manual and company test (実践編), in headless Chromium: the corpus of
xss_payloads.py typed into every text field of the policy wizard and the manual's form, into the manual's full
text and into the company test's questions, then published and shown to the admin (wizard, preview, version,
acknowledgments), to an employee (required reading, the document, the generated course and its test) and to a
manager (evidence page). Runs after test_compliance_journey.py (file order), which publishes the first versions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml

from app.documents.manual import MANUAL_STEPS
from app.documents.policy_steps import POLICY_STEPS
from app.documents.wizard import Step
from tests.e2e.xss_browser import Session, open_session
from tests.e2e.xss_payloads import PAYLOADS, chunks

pytestmark = pytest.mark.e2e
TEXTS = [payload.text for payload in PAYLOADS]
LEARNER = "employee05@example.com"
MANAGER = "manager@example.com"


def hostile_fields(step: Step, offset: int) -> list[tuple[str, str]]:
    """Every field of the step filled with payloads: text fields with one chunk each (rotating through the corpus),
    text areas and line lists with the whole corpus, split over as many fields as it takes."""
    fields: list[tuple[str, str]] = []
    for index, field in enumerate(step.fields):
        if field.kind == "choices":
            fields += [(field.name, option.key) for option in field.options]
        elif field.kind == "text":
            pieces = chunks(TEXTS, field.max_length)
            fields.append((field.name, pieces[(offset + index) % len(pieces)]))
        elif field.kind == "textarea":
            pieces = chunks(TEXTS, field.max_length, sep="\n")
            fields.append((field.name, pieces[(offset + index) % len(pieces)]))
        else:
            lines = [text.replace("\n", " ") for text in TEXTS if len(text) <= field.max_length]
            start = (offset * 30) % max(1, len(lines))
            fields.append((field.name, "\n".join((lines[start:] + lines[:start])[:30])))
    return fields


def hostile_test() -> str:
    questions = [
        {
            "id": f"q{index}",
            "type": "single",
            "prompt": text,
            "explanation": text,
            "choices": [{"id": "a", "text": text, "correct": True}, {"id": "b", "text": "ちがう"}],
        }
        for index, text in enumerate(TEXTS[:40])
    ]
    return yaml.safe_dump({"title": "XSS の確認", "pass_mark": 50, "questions": questions}, allow_unicode=True)


@pytest.fixture(scope="module")
def admin(browser, live_server: str) -> Iterator[Session]:
    session = open_session(browser, live_server, "admin@example.com")
    yield session
    session.context.close()


def test_company_documents_are_inert_everywhere(admin: Session, browser, live_server: str) -> None:
    for offset in range(3):  # three rounds, so each text field sees several chunks of the corpus
        for step in POLICY_STEPS:
            admin.post(
                f"/admin/documents/policy/steps/{step.key}",
                [*hostile_fields(step, offset), ("_go", "stay")],
                where=f"policy step {step.key}, round {offset}",
            )
    for step in MANUAL_STEPS:
        admin.post(
            f"/admin/documents/manual/steps/{step.key}",
            [*hostile_fields(step, 0), ("_go", "stay")],
            where=f"manual step {step.key}",
        )
    body = "# マニュアル\n\n{{ company_name }}\n\n" + "\n\n".join(TEXTS)
    admin.post(
        "/admin/documents/manual/steps/template", [("template", body), ("_go", "stay")], where="manual full text"
    )
    # Template probes like {{ config }} are placeholders the manual does not know: refused, and shown inertly.
    admin.visit("/admin/documents/manual/preview")
    assert "使えない差し込み項目" in admin.page.locator(".error-list").inner_text()
    admin.post(
        "/admin/documents/manual/steps/template",
        [("template", body.replace("{{", "{ {")), ("_go", "stay")],
        where="manual full text without placeholders",
    )
    admin.post(
        "/admin/documents/policy/steps/test", [("test", hostile_test()), ("_test", "attach")], where="company test"
    )
    for kind in ("policy", "manual"):
        admin.visit(f"/admin/documents/{kind}/preview")
        assert admin.page.locator(".error-list").count() == 0, admin.page.locator(".error-list").inner_text()
        admin.post(
            f"/admin/documents/{kind}/publish",
            [("change", "substantive"), ("change_note", TEXTS[0][:1000])],
            where=f"publish {kind}",
        )
        assert "を公開しました" in admin.page.locator("main").inner_text(), f"{kind} was not published"
        admin.visit(f"/admin/documents/{kind}/acknowledgments")
    admin.visit("/admin/documents")
    admin.visit("/admin/documents/policy/steps/stance")
    admin.visit("/admin/documents/policy/steps/test")
    admin.visit("/admin/audit")
    admin.watch.assert_clean()

    learner = open_session(browser, live_server, LEARNER)
    manager = open_session(browser, live_server, MANAGER)
    try:
        for path in (
            "/my",
            "/documents/policy",
            "/documents/manual",
            "/courses/company-policy",
            "/courses/company-policy/lessons/document",
            "/courses/company-policy/lessons/document/test",
        ):
            learner.visit(path)
        learner.visit("/documents/policy")
        learner.page.get_by_label("内容を理解しました").check()
        learner.submit(learner.page.get_by_role("button", name="確認を記録する"), where="acknowledged")
        manager.visit("/manage/evidence")
        manager.visit("/manage/certificates")
        for session in (learner, manager):
            session.watch.assert_clean()
    finally:
        learner.context.close()
        manager.context.close()
