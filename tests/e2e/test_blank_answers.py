"""Answering a test with questions left blank, on a phone and on a desktop: 「n / N 問 回答済み」 follows what
is saved, and 提出する with blanks lists them instead of scoring them; the learner answers or confirms."""

import re

import pytest

from tests.e2e.support import console_errors, shot, sign_in, start_attempt

pytestmark = pytest.mark.e2e

SCREENS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 900}}
LEARNERS = {"phone": "employee18@example.com", "desktop": "employee19@example.com"}


def answer(fieldset) -> None:
    selects = fieldset.locator("select")
    if selects.count():
        for index in range(selects.count()):
            selects.nth(index).select_option(str(index + 1))
    else:
        fieldset.locator("input").first.check()
    fieldset.locator(".save-state").get_by_text("保存しました").wait_for()


@pytest.mark.parametrize("screen", SCREENS)
def test_blank_questions_are_counted_listed_and_only_submitted_when_confirmed(
    live_server: str, browser, screen: str
) -> None:
    context = browser.new_context(viewport=SCREENS[screen])
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, live_server, LEARNERS[screen])
    start_attempt(page, live_server, "what-is-kasuhara")
    questions = page.locator("fieldset.question")
    total = questions.count()
    progress = page.locator("#answer-progress")
    assert progress.inner_text() == f"0 / {total} 問 回答済み"

    answer(questions.nth(0))
    answer(questions.nth(2))
    assert progress.inner_text() == f"2 / {total} 問 回答済み"
    numbers = [questions.nth(i).locator(".qnum").inner_text() for i in range(total)]
    blank_numbers = [n for i, n in enumerate(numbers) if i not in (0, 2)]
    assert page.locator(".unanswered-now a").all_inner_texts() == blank_numbers
    # the count stays in sight while the learner scrolls down the paper
    questions.nth(total - 1).scroll_into_view_if_needed()
    assert progress.bounding_box()["y"] >= -1 and progress.is_visible()
    shot(page, f"blank-answers-{screen}-1-answering")

    page.get_by_role("button", name="提出する", exact=True).click()
    warning = page.locator("#held-back")
    warning.wait_for()
    assert f"未回答の問題が{total - 2}問あります" in warning.inner_text()
    assert warning.locator(".unanswered-list a").all_inner_texts() == blank_numbers
    assert page.locator("fieldset.question.unanswered").count() == total - 2
    assert progress.inner_text() == f"2 / {total} 問 回答済み"
    shot(page, f"blank-answers-{screen}-2-held")

    # following a listed question and answering it takes it off the list
    warning.locator(".unanswered-list a").first.click()
    first_blank = questions.nth(1)
    answer(first_blank)
    assert "unanswered" not in (first_blank.get_attribute("class") or "")
    assert progress.inner_text() == f"3 / {total} 問 回答済み"

    page.get_by_role("button", name="未回答のまま提出する").click()
    page.get_by_role("heading", name=re.compile("^結果")).wait_for()
    assert page.locator(".explanation").count() == total
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    shot(page, f"blank-answers-{screen}-3-result")
    assert errors == []
    context.close()
