"""The demo's 必読の文書: a new demo learner finds the published 基本方針 on マイ研修, reads it and confirms it,
on a phone and on a desktop, without anyone having to write a policy first."""

import pytest

from tests.e2e.support import console_errors, shot, sign_in

pytestmark = pytest.mark.e2e

SCREENS = {
    "phone": ({"width": 375, "height": 812}, "learner@example.com"),
    "desktop": ({"width": 1280, "height": 900}, "employee07@example.com"),
}


@pytest.mark.parametrize("screen", SCREENS)
def test_a_demo_learner_reads_and_confirms_the_demo_policy(live_server: str, browser, screen: str) -> None:
    viewport, login = SCREENS[screen]
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, live_server, login)
    page.goto(f"{live_server}/my")
    reading = page.locator(".required-reading")
    item = reading.locator("li", has_text="基本方針")
    assert "未確認" in item.inner_text()  # 第1版, or 第2版 after the compliance journey revised it
    item.get_by_role("link").click()
    assert "株式会社デモ商事" in page.get_by_role("heading", level=1).inner_text()
    shot(page, f"demo-policy-{screen}")
    page.get_by_label("内容を理解しました").check()
    page.get_by_role("button", name="確認を記録する").click()
    page.get_by_text("確認を記録しました").wait_for()
    page.goto(f"{live_server}/my")
    assert "確認済み" in page.locator(".required-reading li", has_text="基本方針").inner_text()
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert errors == []
    context.close()
