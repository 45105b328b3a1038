"""The admin's header on a phone folds its ten links behind メニュー (it took four lines, about 270 of 844 px);
on a desktop every link shows in one line, and a learner's short menu never folds."""

import pytest

from tests.e2e.support import console_errors, shot, sign_in

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def test_the_admin_menu_folds_behind_a_button_on_a_phone(live_server: str, browser) -> None:
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, live_server, "admin@example.com")
    page.goto(f"{live_server}/admin/users")
    header = page.locator(".site-header")
    button = page.get_by_role("button", name="メニュー")
    assert button.is_visible() and button.get_attribute("aria-expanded") == "false"
    assert not page.get_by_role("link", name="ユーザー管理").is_visible()
    assert header.bounding_box()["height"] <= 60  # one line
    shot(page, "header-phone-closed")

    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    for name in ("マイ研修", "受講状況", "コンテンツ管理", "ユーザー管理", "監査ログ", "ジョブ"):
        assert page.get_by_role("link", name=name, exact=True).is_visible(), name
    assert page.get_by_role("button", name="サインアウト").is_visible()
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    shot(page, "header-phone-open")
    page.keyboard.press("Escape")  # closes, and the focus is back on the button
    assert button.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.classList.contains('menu-button')")

    button.click()
    page.get_by_role("link", name="受講状況", exact=True).click()
    page.wait_for_url(f"{live_server}/dashboard")
    assert page.get_by_role("button", name="メニュー").get_attribute("aria-expanded") == "false"
    assert errors == []
    context.close()


def test_on_a_desktop_and_for_a_learner_nothing_folds(live_server: str, browser) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, live_server, "admin@example.com")
    page.goto(f"{live_server}/admin/users")
    assert not page.get_by_role("button", name="メニュー").is_visible()
    assert page.get_by_role("link", name="ユーザー管理").is_visible()
    assert page.locator(".site-header").bounding_box()["height"] <= 60
    context.close()

    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    sign_in(page, live_server, "employee17@example.com")
    assert page.locator(".menu-button").count() == 0
    assert page.get_by_role("link", name="マイ研修").is_visible()
    context.close()
