"""督促 is confirmed with its count before anything is sent, names who will not get a mail and why, and refuses a
second reminder to the same person on the same day: on a phone (selected people) and a desktop (everyone
overdue)."""

import re

import pytest

from tests.e2e.support import console_errors, shot, sign_in

pytestmark = pytest.mark.e2e


def test_a_manager_confirms_a_reminder_on_a_phone_and_sees_who_is_skipped(live_server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, live_server, "manager@example.com")
    page.goto(f"{live_server}/dashboard")  # 店舗 一美 (社員番号 only) and 店長 次郎, on one page of 15
    for name in ("店舗 一美", "店長 次郎"):
        page.get_by_role("checkbox", name=name).check()
    page.get_by_role("button", name="選択した人に督促する").click()
    page.get_by_role("heading", name="督促メールの確認").wait_for()
    assert page.locator("#to-send").inner_text() == "1人に督促メールを送ります"
    skipped = page.locator("tbody tr", has_text="店舗 一美")
    assert "メールアドレスがありません" in skipped.inner_text()
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    shot(page, "remind-confirm-phone")
    page.get_by_role("button", name="1人に送る").click()
    page.wait_for_url(re.compile(r"/dashboard\?.*job=\d+"))
    page.get_by_text(re.compile(r"1人に督促しました")).wait_for()

    page.goto(f"{live_server}/dashboard?q=店長")  # the same person again on the same day
    page.get_by_role("checkbox", name="店長 次郎").check()
    page.get_by_role("button", name="選択した人に督促する").click()
    assert page.locator("#to-send").inner_text() == "督促メールを送れる人はいません"
    assert "今日すでに督促しました" in page.locator("tbody tr", has_text="店長 次郎").inner_text()
    assert page.get_by_role("button", name=re.compile("人に送る")).count() == 0
    assert errors == []
    context.close()


def test_everyone_overdue_is_counted_before_sending_and_going_back_sends_nothing(live_server: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, "manager2@example.com")  # お客様センター
    page.goto(f"{live_server}/dashboard")
    overdue = int(page.locator(".figure.ng dd a").inner_text())
    page.get_by_role("button", name="期限超過の全員に督促する").click()
    page.get_by_role("heading", name="督促メールの確認").wait_for()
    to_send = page.locator(".name-list li").count()
    assert to_send + page.locator("#skipped").count() * page.locator("tbody tr").count() == overdue
    page.get_by_role("link", name="送らずに戻る").click()
    page.wait_for_url(re.compile(r"/dashboard"))
    assert "job=" not in page.url
    context.close()
