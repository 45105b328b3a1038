"""What a manager comes for first: the employee table right under the headline (it sat at the bottom of a 5,000 px
page), a parent department's own members marked 「(直属)」 instead of a bare 0 %, and questions named by their
test and scene instead of five rows of 「どう対応しますか。」, on a phone and on a desktop."""

import pytest

from tests.e2e.support import console_errors, shot, sign_in

pytestmark = pytest.mark.e2e

SCREENS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.mark.parametrize("screen", SCREENS)
def test_the_manager_finds_the_table_first_and_every_figure_named(live_server: str, browser, screen: str) -> None:
    context = browser.new_context(viewport=SCREENS[screen])
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, live_server, "manager@example.com")  # manages 店舗事業部, with 新宿店 and 梅田店 below it
    page.goto(f"{live_server}/dashboard")
    table = page.locator("#employee-table")
    analysis = page.locator("#analysis")
    table_top = table.bounding_box()["y"]
    assert table_top < analysis.bounding_box()["y"]
    assert table_top < (900 if screen == "desktop" else 1700)  # within the first screens, not after 5,000 px
    page.get_by_role("link", name="従業員一覧").click()
    assert page.evaluate("location.hash") == "#employee-table"

    rows = page.locator("#analysis table.compact tbody tr td:first-child").all_inner_texts()
    assert rows[0] == "店舗事業部(直属)" and set(rows[1:]) == {"新宿店", "梅田店"}
    assert "店舗事業部(直属)" in page.locator("svg.chart-bar").first.text_content()

    cells = page.locator(".prompt-cell")
    assert cells.count() > 0
    assert cells.locator(".item-test").count() == cells.count()
    assert all(
        text.startswith("理解度テスト") or text == "修了テスト"
        for text in cells.locator(".item-test").all_inner_texts()
    )
    scenes = cells.locator(".item-scene").all_inner_texts()
    assert scenes and all(text.startswith("場面:") for text in scenes)
    shot(page, f"dashboard-shape-{screen}")
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert errors == []
    context.close()
