"""Printing password slips for one person, on a phone and on a desktop: the page says whose link a print run
replaces before it does it, nobody else's link changes, and printing twice is refused."""

import re

import pytest

from tests.e2e.support import console_errors, shot, sign_in

pytestmark = pytest.mark.e2e
VIEWPORTS = {"phone": {"width": 375, "height": 812}, "desktop": {"width": 1280, "height": 900}}


def import_staff(page, base: str, tmp_path, prefix: str) -> str:
    """Three new staff without e-mail in a department of their own; the department's path."""
    department = f"本社/設定票確認{prefix}"
    rows = "".join(f"{prefix}{n},設定 {prefix}{n},,{department}\r\n" for n in (1, 2, 3))
    csv = tmp_path / f"{prefix}.csv"
    csv.write_bytes(("社員番号,氏名,メールアドレス,部署\r\n" + rows).encode("cp932"))
    page.goto(f"{base}/admin/users/import/new")
    page.get_by_label(re.compile("CSV ファイル")).set_input_files(csv)
    page.get_by_role("button", name="内容を確認する").click()
    page.get_by_role("button", name="取り込む").click()
    page.get_by_text("取り込みました: 作成 3 人").wait_for()  # the job ran on the in-process worker
    return department


def open_chooser(page, base: str, department: str) -> None:
    page.goto(f"{base}/admin/users/slips/choose")
    page.get_by_label("部署(下の部署も含む)").select_option(label=department)
    page.get_by_role("button", name="表示").click()
    page.get_by_text("パスワード未設定の 3 人").wait_for()


def print_confirmed(page):
    with page.expect_popup() as popup:
        page.get_by_role("button", name=re.compile("設定票を作る")).click()
    slips = popup.value
    slips.wait_for_load_state()
    return slips


@pytest.mark.parametrize("device", VIEWPORTS)
def test_a_slip_for_one_person_replaces_only_that_persons_link(live_server: str, browser, tmp_path, device) -> None:
    prefix = {"phone": "SP", "desktop": "SD"}[device]
    context = browser.new_context(viewport=VIEWPORTS[device])
    page = context.new_page()
    errors = console_errors(page)
    sign_in(page, live_server, "admin@example.com")
    department = import_staff(page, live_server, tmp_path, prefix)

    # Everyone in the department gets a first slip: nothing is ticked until the admin asks for it.
    open_chooser(page, live_server, department)
    assert page.locator("input[name=user_ids]:checked").count() == 0
    page.get_by_role("link", name="表示中の全員にチェックを付ける").click()
    assert page.locator("input[name=user_ids]:checked").count() == 3
    page.get_by_role("button", name="確認へ進む").click()
    assert page.locator(".alert-warning").count() == 0  # nobody holds a link yet
    first_run = print_confirmed(page)
    numbers = [number.inner_text() for number in first_run.locator(".slip-meta strong").all()]
    urls = [url.inner_text().strip() for url in first_run.locator(".slip-url").all()]
    first_links = dict(zip(numbers, urls, strict=True))
    assert sorted(first_links) == [f"{prefix}1", f"{prefix}2", f"{prefix}3"]
    first_run.close()

    # A replacement for the second person only: the chooser shows who holds a link, the confirmation says
    # exactly whose link goes.
    open_chooser(page, live_server, department)
    assert page.locator("input[name=user_ids]:checked").count() == 0
    assert page.locator("tbody tr", has_text="有効(").count() == 3
    page.get_by_role("checkbox", name=f"設定 {prefix}2").check()
    page.get_by_role("button", name="確認へ進む").click()
    page.get_by_role("heading", name="設定票の作成を確認").wait_for()
    assert page.locator("tbody tr").count() == 1
    assert "使えなくなります" in page.locator("tbody tr", has_text=f"{prefix}2").inner_text()
    assert "このうち 1 人は、いま使えるリンクを持っています" in page.locator(".alert-warning").inner_text()
    shot(page, f"slips-confirm-{device}")
    second_run = print_confirmed(page)
    assert [s.inner_text() for s in second_run.locator(".slip-meta strong").all()] == [f"{prefix}2"]
    shot(second_run, f"slips-printed-{device}")

    again = print_confirmed(page)  # the same confirmation, submitted again
    assert "この設定票はすでに作成済みです" in again.locator("main").inner_text()

    staff = browser.new_context(viewport=VIEWPORTS["phone"]).new_page()
    for number, url in first_links.items():
        staff.goto(url)
        still_valid = staff.get_by_role("button", name="設定してサインイン").count() == 1
        assert still_valid == (number != f"{prefix}2"), number
    assert errors == []
    context.close()
