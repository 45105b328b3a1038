"""Sign in → lesson → test → result, in headless Chromium on a 375 px phone screen."""

import re

import pytest

from tests.e2e.support import answer_every_question, shot

pytestmark = pytest.mark.e2e


def test_learner_signs_in_reads_a_lesson_takes_the_test_and_sees_the_result(live_server: str, browser) -> None:
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 375, "height": 812})
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server}/my")
    assert page.url.startswith(f"{live_server}/login")
    page.get_by_label("メールアドレス").fill("learner@example.com")
    page.get_by_label("パスワード").fill("demo-password")
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url(f"{live_server}/my")
    assert page.locator("html").get_attribute("lang") == "ja"
    shot(page, "01-my")

    page.get_by_role("link", name="続きから").first.click()
    page.wait_for_url(re.compile(r".*/lessons/kasuhara-vs-complaint$"))
    assert page.get_by_role("heading", level=1).inner_text() == "カスハラとクレームの違い"
    assert page.locator(".toc a").count() >= 5
    shot(page, "02-lesson")

    page.get_by_role("button", name="読了にする").click()
    page.get_by_text("このレッスンは読了済みです。").wait_for()
    page.get_by_role("link", name="理解度テストへ進む").click()
    page.get_by_role("button", name="テストを始める").click()
    page.wait_for_url(re.compile(r".*/attempts/\d+$"))
    assert page.locator("fieldset.question").count() == 8

    answer_every_question(page)
    page.reload()  # a dropped connection: the answers are still there
    assert page.locator("fieldset.question .save-state", has_text="保存済み").count() == 8
    shot(page, "03-test")
    page.get_by_role("button", name="提出する").click()

    page.get_by_role("heading", name=re.compile("^結果")).wait_for()
    assert re.fullmatch(r"\d+", page.locator(".score-number").inner_text())
    assert page.locator(".verdict").inner_text() in {"合格です。", "不合格です。合格点は80%です。"}
    assert page.locator(".explanation").count() == 8
    shot(page, "04-result")
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")  # no sideways scroll
    assert errors == []
