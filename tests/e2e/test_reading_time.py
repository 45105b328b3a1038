"""A minimum reading time, set in the course settings: 読了 right after opening a lesson is refused with how long
is left (on a phone), and counts once the page has been open that long. The admin sets it on a desktop."""

import re
import sqlite3

import pytest

from tests.e2e.conftest import LIVE_DATABASE
from tests.e2e.support import COURSE, console_errors, shot, sign_in

pytestmark = pytest.mark.e2e

LESSON = "criteria-and-responses"  # not read by learner@example.com in the demo, nor by the other journeys


def set_minimum(browser, live_server: str, minutes: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, "admin@example.com")
    page.goto(f"{live_server}/admin/content")
    page.locator("a[href^='/admin/content/courses/']", has_text="カスタマーハラスメント対策研修").first.click()
    page.wait_for_url(re.compile(r"/admin/content/courses/\d+$"))
    page.get_by_label(re.compile("読了に必要な閲覧時間")).fill(minutes)
    page.get_by_role("button", name="保存").click()
    page.get_by_text("保存しました").wait_for()
    shot(page, f"reading-time-settings-{minutes}")
    context.close()


def test_a_lesson_counts_as_read_only_after_the_minimum_time(live_server: str, browser) -> None:
    set_minimum(browser, live_server, "1")
    try:
        context = browser.new_context(viewport={"width": 375, "height": 812})
        page = context.new_page()
        errors = console_errors(page)
        sign_in(page, live_server, "learner@example.com")
        page.goto(f"{live_server}{COURSE}/lessons/{LESSON}")
        card = page.locator("#read-state")
        assert "1分以上開いてから読了にできます" in card.inner_text()
        page.get_by_role("button", name="読了にする").click()
        card.get_by_role("alert").wait_for()
        assert "あと約1分開いて読んでください" in card.get_by_role("alert").inner_text()
        assert page.get_by_role("button", name="読了にする").is_visible()  # still there to press later
        shot(page, "reading-time-refused")

        with sqlite3.connect(LIVE_DATABASE["path"]) as database:  # a minute of reading passes
            changed = database.execute(
                "UPDATE lesson_progress SET seconds_spent = 60 WHERE lesson_slug = ? AND user_id = "
                "(SELECT id FROM users WHERE email = 'learner@example.com')",
                (LESSON,),
            ).rowcount
        assert changed == 1
        page.get_by_role("button", name="読了にする").click()
        page.get_by_text("このレッスンは読了済みです。").wait_for()
        assert errors == []
        context.close()
    finally:
        set_minimum(browser, live_server, "0")  # the other journeys read lessons at once
