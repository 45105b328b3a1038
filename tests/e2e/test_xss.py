"""XSS, in headless Chromium: the corpus of xss_payloads.py through every place text enters the app (a course pack,
the lesson editor, the employee CSV, the user form, filters and `next=`, token names, assignment addresses, notes,
file names) and every page where it comes out, for an admin, a manager, a learner and a visitor.

The contexts bypass the CSP, so what is proven is the escaping and the sanitiser, not the CSP; the last test turns
the CSP back on and requires that the same pages raise no CSP report at all. A payload that runs calls a marker, and
every page is also checked for markup no payload may produce (`xss_browser.Watch`). The hostile course, departments
and people are new ones: the demo course and accounts the other browser tests use are left as they were.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from tests.e2e.support import answer_every_question
from tests.e2e.xss_browser import Session, Watch, open_session
from tests.e2e.xss_inputs import COURSE, TOP_DEPARTMENT, employee_csvs, pack_files, publishable, zip_pack
from tests.e2e.xss_payloads import PAYLOADS, chunks

pytestmark = pytest.mark.e2e
ADMIN = "admin@example.com"
MANAGER = "manager@example.com"  # manages 店舗事業部 (app/demo.py)
LESSON = f"/courses/{COURSE}/lessons/payloads"
TEXTS = [payload.text for payload in PAYLOADS]
LEARNER_PASSWORD = "xss corpus learner 2026"
# One payload of each technique, for inputs that store a row per submission (token names, assignment addresses).
SAMPLE = [next(p for p in PAYLOADS if p.category == kind) for kind in dict.fromkeys(p.category for p in PAYLOADS)]
# Names whose place in a page matters most: inside value="…" of the user form.
ATTRIBUTE_NAMES = {" ".join(p.text.split()) for p in PAYLOADS if p.category in ("attribute", "url")}


def _session(browser, live_server: str, login: str | None) -> Iterator[Session]:
    session = open_session(browser, live_server, login)
    yield session
    session.context.close()


@pytest.fixture(scope="module")
def admin(browser, live_server: str) -> Iterator[Session]:
    yield from _session(browser, live_server, ADMIN)


@pytest.fixture(scope="module")
def manager(browser, live_server: str) -> Iterator[Session]:
    yield from _session(browser, live_server, MANAGER)


@pytest.fixture(scope="module")
def visitor(browser, live_server: str) -> Iterator[Session]:
    yield from _session(browser, live_server, None)


def _lesson_text(texts: list[str]) -> str:
    return "---\ntitle: 編集したレッスン\nsummary: 編集画面から入れた本文\nminutes: 5\n---\n\n" + "\n\n".join(texts)


@pytest.fixture(scope="module")
def course(admin: Session, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The hostile pack refused (every payload), then uploaded (those the validator accepts), edited in the browser
    (live preview, a refused save, a saved draft) and published. Returns the ids of the two versions."""
    folder = tmp_path_factory.mktemp("xss-pack")
    accepted = publishable(PAYLOADS)
    notes = chunks(TEXTS, 500)
    page = admin.page
    for archive, note in (
        (zip_pack(pack_files(PAYLOADS), folder / "all.zip"), notes[0]),
        (zip_pack(pack_files(accepted), folder / "accepted.zip"), notes[1]),
    ):
        admin.visit("/admin/content")
        page.get_by_label(re.compile("ZIP ファイル")).set_input_files(archive)
        page.get_by_label("変更の説明(任意)").fill(note)
        admin.submit(page.get_by_role("button", name="検査して下書きにする").first, where=f"upload {archive.name}")
    page.get_by_text("検査に合格し").wait_for()
    first = page.url.split("/versions/")[1].split("?")[0]

    admin.visit(f"/admin/content/versions/{first}/lessons/payloads/edit")
    editor = page.locator("textarea#text")
    with page.expect_response(lambda response: response.url.endswith("/preview")):
        editor.fill(_lesson_text(TEXTS))  # every payload: the live preview (htmx) shows them, saving is refused
    admin.watch.inspect(page, "editor live preview")
    admin.submit(page.get_by_role("button", name="下書きとして保存"), where="editor refuses to save")
    assert page.locator("#editor-problems .error-list li").count() > 0
    page.locator("textarea#text").fill(_lesson_text([p.text for p in accepted]))
    page.locator("input#note").fill(notes[2])
    admin.submit(page.get_by_role("button", name="下書きとして保存"), where="edited draft")
    edited = page.url.split("/versions/")[1].split("?")[0]
    admin.submit(page.get_by_role("button", name=re.compile("版を公開する")), where="history after publishing")
    return {"first": first, "edited": edited, "course_id": page.url.split("/courses/")[1].split("?")[0]}


@pytest.fixture(scope="module")
def staff(admin: Session) -> list[str]:
    """Employees imported from a CSV whose names, addresses and departments are payloads (and so is the file's
    name, shown on the plan). Returns the employee numbers of those imported."""
    everything, accepted, numbers = employee_csvs(PAYLOADS)
    page = admin.page
    for name, data in (
        ("<img src=x onerror=window.__xss('csv-filename')>.csv", everything),
        ("\"><svg onload=window.__xss('csv-filename-quote')>.csv", accepted),
    ):
        admin.visit("/admin/users/import/new")
        page.get_by_label(re.compile("CSV ファイル")).set_input_files(
            {"name": name, "mimeType": "text/csv", "buffer": data}
        )
        admin.submit(page.get_by_role("button", name="内容を確認する"), where=f"import plan of {name}")
    admin.submit(page.get_by_role("button", name="取り込む"), where="users after the import")
    assert "job=" in page.url
    page.get_by_text("取り込みました: 作成").wait_for()  # the import job, run by the server's in-process worker
    return numbers


@pytest.fixture(scope="module")
def learner(browser, live_server: str, admin: Session, course: dict[str, str], staff: list[str]) -> Iterator[Session]:
    """The course assigned to the hostile departments; their first employee (a payload as name) sets a password
    through a one-time link and signs in."""
    page = admin.page
    admin.visit("/manage/assignments")
    page.get_by_label("コース").select_option(COURSE)
    page.get_by_label("部署").select_option(label=TOP_DEPARTMENT)
    admin.submit(page.get_by_role("button", name="割り当てる"), where="assignments")
    admin.visit(f"/admin/users?q={staff[0]}")
    admin.submit(page.locator("table.users tbody a").first, where="a hostile user's page")
    admin.submit(page.get_by_role("button", name="パスワード設定リンクを発行"), where="password link issued")
    link = page.locator("input.copyable").input_value()

    session = open_session(browser, live_server)
    session.watch.visit(session.page, link, where="password page")
    session.page.get_by_label(re.compile("新しいパスワード")).fill(LEARNER_PASSWORD)
    session.page.get_by_label("確認のためもう一度").fill(LEARNER_PASSWORD)
    session.submit(session.page.get_by_role("button", name="設定してサインイン"), where="signed in from the link")
    yield session
    session.context.close()


@pytest.fixture(scope="module")
def attempt(learner: Session) -> str:
    """The learner reads the lesson and takes its test, answering wrongly (so feedback and misconceptions show
    with the explanations). Returns the attempt's id."""
    page = learner.page
    learner.visit(LESSON)
    page.get_by_role("button", name="読了にする").click()
    page.get_by_text("このレッスンは読了済みです。").wait_for()
    learner.watch.inspect(page, "lesson marked read (htmx)")
    learner.visit(f"{LESSON}/test")
    learner.submit(page.get_by_role("button", name="テストを始める"), where="test paper")
    answer_every_question(page)
    learner.submit(page.get_by_role("button", name="提出する"), where="result with explanations")
    assert page.locator(".explanation").count() > 0
    return page.url.rsplit("/", 1)[1]


def test_the_watch_sees_payloads_that_run(browser) -> None:
    """The detector itself: the corpus pasted raw into a page must set off markers, dialogs and DOM findings."""
    context = browser.new_context(bypass_csp=True)
    watch = Watch(fail_fast=False)
    watch.attach(context)
    evaluated = "<p>{{7*7}}ssti-jinja is left alone, 49ssti-dollar is what an evaluated probe looks like</p>"
    raw = f"<!doctype html><title>raw</title><main>{evaluated}{''.join(f'<div>{text}</div>' for text in TEXTS)}</main>"
    context.route("http://raw.test/**", lambda route: route.fulfill(body=raw, content_type="text/html"))
    page = context.new_page()
    watch.visit(page, "http://raw.test/raw", where="raw")
    page.wait_for_timeout(300)
    context.close()
    fired = {hit.split(" on ")[0] for hit in watch.hits}
    assert {"script-plain", "img-onerror", "svg-onload", "details-ontoggle", "iframe-srcdoc"} <= fired, fired
    assert "alert('alert-onerror')" in watch.dialogs
    assert len(watch.problems) > 50
    assert [problem for problem in watch.problems if "evaluated probe" in problem] == [
        "raw: evaluated probe 49ssti-dollar",
        "raw: evaluated probe ssti-dollar",
    ]


def test_pack_content_is_inert_in_every_admin_view(admin: Session, course: dict[str, str]) -> None:
    first, edited, course_id = course["first"], course["edited"], course["course_id"]
    versions = f"/admin/content/versions/{first}"
    for path in (
        "/admin/content",
        versions,
        f"/admin/content/versions/{edited}",
        f"{versions}/lessons/payloads",
        f"/admin/content/versions/{edited}/lessons/payloads",
        f"{versions}/lessons/appendix",
        f"{versions}/lessons/titles-01",
        f"{versions}/quizzes/payloads",
        f"{versions}/quizzes/final",
        f"/admin/content/courses/{course_id}",
        f"/admin/content/courses/{course_id}/compare?old={first}&new={edited}",
    ):
        assert admin.visit(path) == 200, path
    # Replacing a file: the path chosen is a payload; the refusal names it.
    admin.visit(versions)
    admin.page.locator("select#path").evaluate("(select, value) => { select.options[0].value = value; }", TEXTS[0])
    admin.page.locator("input#file").set_input_files({"name": "x.md", "mimeType": "text/markdown", "buffer": b"x"})
    admin.submit(admin.page.get_by_role("button", name="検査して下書きにする"), where="replace refused")
    # The pack's SVG opened on its own, as a document: rebuilt from the allow-list, nothing in it may run.
    admin.visit(f"/assets/{first}/images/hostile.svg", where="pack SVG", full_page=False)
    admin.watch.assert_clean()


def test_lesson_test_and_result_are_inert_for_the_learner(learner: Session, attempt: str) -> None:
    for path in (
        "/my",
        f"/courses/{COURSE}",
        LESSON,
        f"/courses/{COURSE}/lessons/appendix",
        f"/courses/{COURSE}/lessons/titles-01",
        f"{LESSON}/test",
        f"/courses/{COURSE}/final-test",
        f"/attempts/{attempt}",
    ):
        assert learner.visit(path) == 200, path
    learner.post(
        f"/attempts/{attempt}/answers/{quote(TEXTS[0], safe='')}",
        [(f"q.{TEXTS[1]}.answer", TEXTS[2])],
        where="an answer to a question id that is a payload",
    )
    learner.watch.assert_clean()


def test_people_and_departments_are_inert_wherever_they_are_listed(
    admin: Session, staff: list[str], attempt: str
) -> None:
    page = admin.page
    assert admin.visit("/admin/users?q=XSS") == 200
    pager = re.search(r"(\d+) / (\d+)", page.locator(".pager").inner_text()) if page.locator(".pager").count() else None
    users: list[list[str]] = []
    for number in range(1, (int(pager.group(2)) if pager else 1) + 1):
        admin.visit(f"/admin/users?q=XSS&page={number}")
        users += page.eval_on_selector_all("table.users tbody a", "as => as.map(a => [a.getAttribute('href'), a.text])")
    assert len(users) == len(staff), "every imported employee is listed"
    for href, name in users:
        if name in ATTRIBUTE_NAMES:  # the user form puts the name and the address inside value="…"
            admin.visit(href)
    admin.visit("/admin/users/slips/choose?everyone=1")
    admin.submit(page.get_by_role("button", name="確認へ進む"), where="slip confirmation")
    with page.expect_popup() as popup:
        page.get_by_role("button", name=re.compile("設定票を作る")).click()
    admin.watch.inspect(popup.value, "printed slips")
    popup.value.close()

    admin.visit("/manage/assignments")
    top = page.locator("#a-department option", has_text=TOP_DEPARTMENT).first.get_attribute("value")
    admin.visit(f"/dashboard?course={COURSE}&department={top}")
    departments = page.eval_on_selector_all(
        "a[href^='/dashboard?'][href*='department=']", "as => as.map(a => a.getAttribute('href'))"
    )  # department links, not the CSV export's
    for href in departments[:4]:  # a hostile department's own figures: its name in the heading and the charts
        admin.visit(href)
    admin.visit(f"/dashboard?course={COURSE}&page=2")
    admin.visit(f"/dashboard/attempts/{attempt}")
    admin.visit(page.eval_on_selector("a[href^='/dashboard/employees/']", "a => a.getAttribute('href')"))
    admin.visit(f"/dashboard?course={COURSE}")
    page.evaluate("() => document.querySelectorAll('input[name=user_ids]').forEach(box => { box.checked = true; })")
    admin.submit(page.get_by_role("button", name="選択した人に督促する"), where="dashboard after reminders")
    admin.post(
        "/dashboard/remind",
        [("course", COURSE), ("back", f"/dashboard?course={COURSE}&q={quote(TEXTS[0])}")],
        where="reminder sent back to a filter with a payload",
    )
    # /admin/jobs lists the import jobs named after the payload file names and the reminders' jobs
    for path in ("/admin/outbox", "/admin/audit", "/admin/audit?page=2", "/admin/audit?q=XSS", "/admin/jobs"):
        assert admin.visit(path) == 200, path
    admin.watch.assert_clean()


def test_query_parameters_are_inert(admin: Session, manager: Session, visitor: Session, course: dict[str, str]) -> None:
    values = chunks(TEXTS, 1500)
    for index, value in enumerate(values):
        other = quote(values[(index + 1) % len(values)])
        admin.visit(f"/admin/users?q={quote(value)}&role={other}&status={other}", where=f"users filter {index}")
        admin.visit(
            f"/admin/audit?q={quote(value)}&action={other}&actor={other}&since={other}&until={other}",
            where=f"audit filter {index}",
        )
        visitor.visit(f"/login?next={quote('/' + value)}", where=f"login next {index}")
    admin.visit(f"/login?next={quote('/' + TEXTS[0])}", where="signed in: next= followed")
    # Not ids, not days, beyond the database's integers or the calendar: ignored or refused, never a 500.
    for query, status in (
        ("page=abc", 422),
        ("page=99999999999999999999", 200),
        ("actor=%C2%B2", 200),
        ("actor=99999999999", 200),
        ("since=0001-01-01", 200),
        ("until=9999-12-31", 200),
    ):
        assert admin.visit(f"/admin/audit?{query}") == status, query
        assert admin.visit(f"/admin/users?{query}") == status, query
    visitor.visit(f"/{quote(TEXTS[0])}", where="unknown path")
    visitor.visit(f"/password/{quote(TEXTS[1], safe='')}", where="password link with a payload as its token")
    for value in chunks(TEXTS, 320):  # the login form shows the address typed back; no password: no lockout
        visitor.post("/login", [("email", value), ("password", ""), ("next", "/" + value)], where="login form")

    page = manager.page
    manager.visit("/dashboard")
    for value in chunks(TEXTS, 100):  # the filter form as used: htmx swaps the table in place
        if not page.locator("#f-q").count():  # a refused value (a NUL) put the error message in the table's place
            manager.visit("/dashboard")
        with page.expect_response(lambda response: "/dashboard?" in response.url):
            page.locator("#f-q").fill(value)
            page.locator("#f-q").press("Enter")
        manager.watch.inspect(page, f"dashboard filter {value[:40]!r}")
    for query, status in (
        (f"q={quote(TEXTS[0])}", 200),
        (f"course={quote(TEXTS[0][:60])}", 404),
        (f"status={quote(TEXTS[1])}", 422),
        (f"sort={quote(TEXTS[2])}", 422),
        (f"dir={quote(TEXTS[3])}", 422),
        (f"department={quote(TEXTS[4])}", 422),
        ("department=99999999999999999999", 422),
        ("page=0", 422),
        ("course=&department=&status=&q=", 200),
    ):
        assert manager.visit(f"/dashboard?{query}", where=f"dashboard ?{query[:60]}") == status, query
    for watch in (admin.watch, manager.watch, visitor.watch):
        watch.assert_clean()


def test_other_free_text_is_inert(admin: Session, course: dict[str, str]) -> None:
    for value in chunks(TEXTS, 320):  # the user form shows what was typed back, with the error
        admin.post(
            "/admin/users/new",
            [
                ("name", value),
                ("employee_number", value),
                ("email", value),
                ("role", "learner"),
                ("department_id", "²"),
            ],
            where=f"user form {value[:40]!r}",
        )
    name = next(iter(sorted(n for n in ATTRIBUTE_NAMES if len(n) <= 100)))
    admin.post(
        "/admin/users/new",
        [("name", name), ("employee_number", "XSS-FORM"), ("role", "learner")],
        where="user created from the form",
    )
    for payload in SAMPLE:  # the address that was not found is named in the error
        admin.post(
            "/manage/assignments",
            [("course", COURSE), ("email", payload.text[:320])],
            where=f"assignment to {payload.id}",
        )
    for payload in SAMPLE:
        admin.post("/account/tokens", [("name", payload.text[:100])], where=f"token named {payload.id}")
    admin.visit("/account/tokens")
    admin.watch.assert_clean()


def test_pages_with_payloads_raise_no_csp_report(
    browser, live_server: str, course: dict[str, str], staff: list[str], attempt: str
) -> None:
    """With the CSP as served (`script-src 'self'`, no inline anything): the app's own scripts, htmx included, run
    without a single report, hostile content or not."""
    admin = open_session(browser, live_server, ADMIN, bypass_csp=False)
    learner = open_session(browser, live_server, staff[0], password=LEARNER_PASSWORD, bypass_csp=False)
    try:
        for path in ("/my", f"/courses/{COURSE}", LESSON, f"{LESSON}/test", f"/attempts/{attempt}"):
            learner.visit(path)
        for path in (
            f"/admin/content/versions/{course['edited']}/lessons/payloads",
            f"/admin/content/versions/{course['first']}/quizzes/payloads",
            f"/dashboard?course={COURSE}",
            f"/dashboard/attempts/{attempt}",
            "/admin/users?q=XSS",
            "/admin/audit",
            f"/admin/content/versions/{course['edited']}/lessons/payloads/edit",
        ):
            admin.visit(path)
        with admin.page.expect_response(lambda response: response.url.endswith("/preview")):
            admin.page.locator("textarea#text").press("End")
            admin.page.locator("textarea#text").press("Space")  # htmx posts the live preview
        admin.watch.inspect(admin.page, "live preview with the CSP on")
        for session in (admin, learner):
            session.watch.assert_clean()
    finally:
        admin.context.close()
        learner.context.close()
