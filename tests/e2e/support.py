"""Helpers the browser tests share: signing in through the real form, console errors, and learner fixtures that
do not depend on the demo's random progress (`lms demo` draws each simulated paper afresh, so which lessons a
given demo employee has read differs from run to run)."""

from __future__ import annotations

import os
import re
from pathlib import Path

PASSWORD = "demo-password"  # app/demo.py: DEMO_PASSWORD
COURSE = "/courses/kasuhara-basics"


def sign_in(page, base_url: str, login: str, *, password: str = PASSWORD) -> None:
    """Sign in through the login form and wait until the app has redirected away from it."""
    page.goto(f"{base_url}/login")
    page.get_by_label("メールアドレスまたは社員番号").fill(login)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


def console_errors(page) -> list[str]:
    """A live list of the page's console errors (CSP refusals and htmx failures land there)."""
    errors: list[str] = []

    def on_console(message) -> None:
        if message.type == "error":
            where = message.location
            errors.append(f"{message.text} ({page.url}; {where.get('url')}:{where.get('lineNumber')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"{error} ({page.url})"))
    return errors


def shot(page, name: str) -> None:
    """A full-page screenshot into $LMS_E2E_SCREENSHOTS, when set.

    caret="initial": Playwright otherwise hides the caret with a <style> element it adds to the page, and when
    htmx later snapshots the page for its history (hx-push-url), Chromium reports that style as a CSP violation,
    an error the page itself never causes.
    """
    folder = os.environ.get("LMS_E2E_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{folder}/{name}.png", full_page=True, caret="initial")


def answer_every_question(page) -> None:
    for fieldset in page.locator("fieldset.question").all():
        selects = fieldset.locator("select")
        if selects.count():
            for index in range(selects.count()):
                selects.nth(index).select_option(str(index + 1))
        else:
            option = fieldset.locator("input").first
            option.focus()
            page.keyboard.press("Space")  # keyboard-only: radios and checkboxes answer to the space bar
        fieldset.locator(".save-state").get_by_text("保存しました").wait_for()


def print_slips(page, employee_number: str):
    """On the slip chooser: tick only this employee, confirm, and print; the popup with the printable slips."""
    for box in page.locator("input[name=user_ids]").all():
        box.set_checked(employee_number in box.locator("xpath=ancestor::tr").inner_text())
    page.get_by_role("button", name="確認へ進む").click()
    page.get_by_role("heading", name="設定票の作成を確認").wait_for()
    with page.expect_popup() as popup:
        page.get_by_role("button", name=re.compile("設定票を作る")).click()
    slips = popup.value
    slips.wait_for_load_state()
    return slips


def issue_password_link(browser, base_url: str, employee_number: str) -> str:
    """The admin issues a one-time password link for a demo employee without e-mail; its path."""
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base_url, "admin@example.com")
    page.goto(f"{base_url}/admin/users?q={employee_number}")
    page.locator("table.users a[href^='/admin/users/']").first.click()
    page.get_by_role("button", name="パスワード設定リンクを発行").click()
    link = page.locator("input.copyable").input_value()
    context.close()
    return link.removeprefix(base_url)


def start_attempt(page, base_url: str, lesson_slug: str) -> str:
    """Open (start, resume or retake) the lesson's test as the signed-in learner; the attempt's path."""
    page.goto(f"{base_url}{COURSE}/lessons/{lesson_slug}/test")
    page.locator("form[action^='/quizzes/'] button").click()
    page.wait_for_url(re.compile(r"/attempts/\d+$"))
    page.locator("fieldset.question").first.wait_for()
    return page.url.removeprefix(base_url)


def submitted_attempt(page, base_url: str, lesson_slug: str) -> str:
    """Take the lesson's test to the end as the signed-in learner; the result page's path."""
    path = start_attempt(page, base_url, lesson_slug)
    answer_every_question(page)
    page.get_by_role("button", name="提出する").click()
    page.get_by_role("heading", name=re.compile("^結果")).wait_for()
    return path
