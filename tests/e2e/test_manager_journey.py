"""The store manager's day, in headless Chromium: 受講状況 for one store, sorted and filtered through htmx, one
employee's record, a new assignment with a due date, the CSV export, and the departments outside their scope."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest

from app.core.db import utcnow
from app.core.templating import TIMEZONE
from tests.e2e.support import console_errors, shot, sign_in

pytestmark = pytest.mark.e2e
MANAGER = "manager@example.com"  # manages 店舗事業部 and its stores 新宿店 and 梅田店 (app/demo.py)
KNOWN = ("受講 花子", "learner@example.com")  # a demo learner at 新宿店
FORMULA_NAME = "=1+2"  # a name Excel would run as a formula if the export did not neutralise it
CSV_HEADER = (
    "\ufeff氏名,社員番号,メールアドレス,部署,状況,期限超過,進捗(%),最高点(平均),受験回数,最終学習日時,修了日時,期限\r\n"
)


def department_ids(page) -> dict[str, str]:
    """The dashboard's department filter, as {name: id}."""
    options = page.locator("#f-department option").all()
    return {
        option.inner_text().strip(): option.get_attribute("value")
        for option in options
        if option.get_attribute("value")
    }


@pytest.fixture(scope="module")
def everyone(live_server: str, browser) -> dict[str, str]:
    """Every department's id as the admin sees them; on the way, the admin adds a 新宿店 employee whose name
    starts with "=", to prove the export neutralises it."""
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live_server, "admin@example.com")
    page.goto(f"{live_server}/dashboard")
    ids = department_ids(page)
    page.goto(f"{live_server}/admin/users/new")
    page.get_by_label("氏名").fill(FORMULA_NAME)
    page.get_by_label(re.compile("^メールアドレス")).fill("formula@example.com")
    page.get_by_label("部署", exact=True).select_option(label="店舗事業部/新宿店")
    page.get_by_role("button", name="作成").click()
    page.get_by_text("作成しました。").wait_for()
    context.close()
    return ids


def rows(page) -> list[list[str]]:
    return [
        [cell.strip() for cell in row.locator("td").all_inner_texts()]
        for row in page.locator("#employee-table tbody tr").all()
    ]


def test_manager_filters_sorts_assigns_and_exports_within_their_scope(
    live_server: str, browser, everyone: dict[str, str], tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = console_errors(page)
    sign_in(page, live_server, MANAGER)
    page.get_by_role("link", name="受講状況").click()
    page.wait_for_url(re.compile(r"/dashboard$"))

    offered = department_ids(page)
    assert set(offered) == {"店舗事業部", "新宿店", "梅田店"}, "only the manager's own departments are offered"
    page.get_by_label("部署", exact=True).select_option(offered["新宿店"])
    page.get_by_role("button", name="表示").click()
    page.wait_for_url(re.compile(rf"department={offered['新宿店']}"))
    assert "新宿店" in page.locator("#headline-title").inner_text()
    assert {row[2] for row in rows(page)} == {"新宿店"}
    assert any(row[1] == KNOWN[0] for row in rows(page))

    # Sorting and the status filter swap the table in place (htmx) and keep the address shareable.
    page.evaluate("window.sameDocument = true")
    page.locator("#employee-table th a", has_text="最高点").click()
    page.locator("#employee-table th[aria-sort=ascending]", has_text="最高点").wait_for()
    assert "sort=best_score" in page.url and f"department={offered['新宿店']}" in page.url
    scores = [int(row[5]) for row in rows(page) if row[5] != "—"]
    assert scores == sorted(scores) and len(scores) >= 2
    page.locator("#employee-table th a", has_text="最高点").click()
    page.locator("#employee-table th[aria-sort=descending]", has_text="最高点").wait_for()
    scores = [int(row[5]) for row in rows(page) if row[5] != "—"]
    assert scores == sorted(scores, reverse=True)
    page.get_by_label("状況").select_option(label="未着手")
    page.get_by_role("button", name="絞り込む").click()
    page.wait_for_url(re.compile(r"status=not_started"))
    page.locator("#employee-table tbody tr").first.wait_for()
    assert all("未着手" in row[3] for row in rows(page))
    assert {row[2] for row in rows(page)} == {"新宿店"}
    assert page.evaluate("window.sameDocument === true"), "the table was swapped in, not the page reloaded"
    shot(page, "manager-dashboard")

    page.get_by_label("状況").select_option(label="すべて")
    page.get_by_role("button", name="絞り込む").click()
    page.wait_for_url(lambda url: "status=not_started" not in url)
    page.locator("#employee-table tbody a", has_text=KNOWN[0]).click()
    page.wait_for_url(re.compile(r"/dashboard/employees/\d+"))
    assert page.locator("h1").inner_text() == KNOWN[0]
    assert KNOWN[1] in page.locator("main").inner_text()
    assert page.locator(".facts dt", has_text="期限").count() == 1

    # The CSV export follows the filter on screen; a cell that Excel would run as a formula is quoted.
    page.goto(f"{live_server}/dashboard?department={offered['新宿店']}")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSVで書き出す").click()
    data = Path(download.value.path()).read_bytes()
    assert download.value.suggested_filename.startswith("jukou-kasuhara-basics-")
    assert data.startswith(CSV_HEADER.encode())
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0][:4] == ["氏名", "社員番号", "メールアドレス", "部署"]
    by_name = {row[0]: row for row in table[1:]}
    store = "店舗事業部/新宿店"  # the full path
    assert by_name[KNOWN[0]][2:4] == [KNOWN[1], store]
    assert by_name["'" + FORMULA_NAME][3] == store
    assert {row[3] for row in table[1:]} == {store}
    assert by_name["店舗 一美"][1] == "P1001"  # staff without e-mail are found by their 社員番号
    dates = [cell for row in table[1:] for cell in row[9:12] if cell]
    assert dates and all(re.fullmatch(r"\d{4}/\d{2}/\d{2}( \d{2}:\d{2})?", cell) for cell in dates), dates
    assert not [cell for row in table[1:] for cell in row if cell[:1] in ("=", "+", "-", "@")]

    # A new assignment for one store, due in 30 days, lands in the list with its date.
    due = (utcnow().astimezone(TIMEZONE) + timedelta(days=30)).date()
    page.get_by_role("link", name="割り当て", exact=True).click()
    page.wait_for_url(re.compile(r"/manage/assignments$"))
    department = page.get_by_label("部署", exact=True)
    assert {o.strip() for o in department.locator("option").all_inner_texts()} == {
        "(個人に割り当てる)",
        "店舗事業部",
        "新宿店",
        "梅田店",
    }
    department.select_option(offered["梅田店"])
    page.get_by_label("期限").fill(due.isoformat())
    page.get_by_role("button", name="割り当てる").click()
    page.get_by_text("割り当てました。").wait_for()
    newest = page.locator("table tbody tr").first.locator("td").all_inner_texts()
    assert newest[1:3] == ["部署: 梅田店", f"{due.year}年{due.month:02d}月{due.day:02d}日"]
    shot(page, "manager-assignments")

    # Departments outside the scope are refused, even with a hand-made address or a tampered form.
    outside = everyone["お客様センター"]
    assert outside not in offered.values()
    for path in (f"/dashboard?department={outside}", f"/dashboard/export.csv?department={outside}"):
        response = page.request.get(live_server + path)
        assert response.status == 404, path
        assert "部署が見つかりません" in response.text()
    page.locator("#a-department").evaluate(
        "(select, id) => { select.add(new Option('お客様センター', id)); select.value = id; }", outside
    )
    page.get_by_role("button", name="割り当てる").click()
    assert "部署が見つかりません" in page.locator("main").inner_text()
    page.goto(f"{live_server}/manage/assignments")
    assert "お客様センター" not in page.locator("table").inner_text()
    assert [e for e in errors if "404" not in e] == []
