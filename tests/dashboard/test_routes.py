"""Scope is enforced on every page, export and API route; the pages answer the manager's questions."""

import csv
import io
import re
from datetime import UTC, datetime

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.dashboard import reminders
from app.dashboard.analysis import scene_excerpt
from app.dashboard.models import Reminder
from app.dashboard.service import DepartmentFigures, own_members_only
from app.jobs.models import Job
from app.quiz.models import Attempt, Quiz
from tests.conftest import run_jobs, sign_in
from tests.org_fixture import Org


def names_in_table(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    return sorted(a.get_text() for a in soup.select("#employee-table tbody td:nth-of-type(2) a"))


async def test_learners_cannot_open_the_dashboard(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, "e1@example.com")
    assert (await client.get("/dashboard")).status_code == 403
    assert (await client.get(f"/dashboard/employees/{org.users['e2'].id}")).status_code == 403


async def test_manager_sees_only_their_subtree(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, "manager.a@example.com")
    page = await client.get("/dashboard")
    assert page.status_code == 200
    assert names_in_table(page.text) == ["社員1", "社員2", "社員3"]
    figures = {
        dt.get_text(): dd.get_text(strip=True)
        for dt, dd in zip(
            BeautifulSoup(page.text, "html.parser").select(".figure dt"),
            BeautifulSoup(page.text, "html.parser").select(".figure dd"),
            strict=True,
        )
    }
    assert figures["対象者"] == "3人" and figures["期限超過"] == "2人" and figures["修了率"] == "33.3%"
    outside = org.users["e4"]
    assert (await client.get(f"/dashboard/employees/{outside.id}")).status_code == 404
    assert (await client.get(f"/dashboard?department={org.departments['店舗部'].id}")).status_code == 404
    assert (await client.get(f"/dashboard?department={org.departments['本社'].id}")).status_code == 404
    searched = await client.get("/dashboard", params={"q": "社員4"})
    assert names_in_table(searched.text) == []


async def test_attempts_are_visible_only_inside_the_scope(
    client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    attempt_id = await db.scalar(select(Attempt.id).where(Attempt.user_id == org.users["e3"].id))
    await sign_in(client, "manager.a@example.com")
    detail = await client.get(f"/dashboard/attempts/{attempt_id}")
    assert detail.status_code == 200 and "社員3" in detail.text and "解説" in detail.text
    await sign_in(client, "manager.b@example.com")
    assert (await client.get(f"/dashboard/attempts/{attempt_id}")).status_code == 404


async def test_drill_down_into_a_department_and_an_employee(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, "admin@example.com")
    page = await client.get(f"/dashboard?department={org.departments['第一課'].id}")
    assert names_in_table(page.text) == ["社員2", "社員3"]
    person = await client.get(f"/dashboard/employees/{org.users['e2'].id}")
    soup = BeautifulSoup(person.text, "html.parser")
    assert soup.h1.get_text() == "社員2"
    assert len(soup.select("a[href^='/dashboard/attempts/']")) == 2  # both lesson tests, each with its detail


async def test_table_filters_sorts_and_paginates_as_an_htmx_fragment(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, "admin@example.com")
    headers = {"HX-Request": "true", "HX-Target": "employee-table"}
    fragment = await client.get("/dashboard", params={"sort": "progress", "dir": "desc"}, headers=headers)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    first = BeautifulSoup(fragment.text, "html.parser").select_one("tbody tr td:nth-of-type(2)").get_text()
    assert first == "社員2"  # the one who finished comes first
    overdue = await client.get("/dashboard", params={"status": "overdue"}, headers=headers)
    assert names_in_table(overdue.text) == ["社員1", "社員3", "社員5"]
    bad = await client.get("/dashboard", params={"sort": "password"})
    assert bad.status_code == 422


async def test_csv_export_opens_in_excel_and_neutralises_formulas(
    client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    org.users["e5"].display_name = '=HYPERLINK("https://evil.example")'
    await db.commit()
    await sign_in(client, "admin@example.com")
    response = await client.get("/dashboard/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["氏名", "社員番号", "メールアドレス", "部署", "状況"]
    assert len(rows) == 6
    assert '\'=HYPERLINK("https://evil.example")' in [row[0] for row in rows]
    await sign_in(client, "manager.b@example.com")
    scoped = list(csv.reader(io.StringIO((await client.get("/dashboard/export.csv")).content.decode("utf-8-sig"))))
    assert sorted(row[2] for row in scoped[1:]) == ["e4@example.com", "e5@example.com"]


async def test_csv_export_names_people_by_number_full_department_and_one_date_format(
    client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    org.users["e2"].employee_number = "A0002"
    await db.commit()
    await sign_in(client, "admin@example.com")
    rows = list(csv.DictReader(io.StringIO((await client.get("/dashboard/export.csv")).content.decode("utf-8-sig"))))
    by_email = {row["メールアドレス"]: row for row in rows}
    assert by_email["e2@example.com"]["社員番号"] == "A0002" and by_email["e1@example.com"]["社員番号"] == ""
    assert by_email["e2@example.com"]["部署"] == "本社/営業部/第一課"  # the full path, not only 第一課
    assert by_email["e4@example.com"]["部署"] == "本社/店舗部"
    moments = [row[c] for row in rows for c in ("最終学習日時", "修了日時") if row[c]]
    days = [row["期限"] for row in rows if row["期限"]]
    assert moments and days
    assert all(re.fullmatch(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}", m) for m in moments), moments
    assert all(re.fullmatch(r"\d{4}/\d{2}/\d{2}", d) for d in days), days


async def _new_token(client: httpx.AsyncClient) -> str:
    page = await client.post("/account/tokens", data={"name": "BI"})
    token = BeautifulSoup(page.text, "html.parser").select_one("code.token").get_text()
    assert re.fullmatch(r"lms_[A-Za-z0-9_-]{40,}", token)
    return token


async def test_api_is_scoped_like_its_owner_and_stops_when_revoked(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, "manager.a@example.com")
    token = await _new_token(client)
    client.cookies.clear()
    auth = {"Authorization": f"Bearer {token}"}
    summary = (await client.get("/api/v1/summary", headers=auth)).json()
    assert (summary["assigned"], summary["completed"], summary["overdue"]) == (3, 1, 2)
    employees = (await client.get("/api/v1/employees", headers=auth)).json()
    assert sorted(item["email"] for item in employees["items"]) == [
        "e1@example.com",
        "e2@example.com",
        "e3@example.com",
    ]
    refused = await client.get(f"/api/v1/employees?department={org.departments['店舗部'].id}", headers=auth)
    assert refused.status_code == 404
    assert refused.json() == {"detail": "部署が見つかりません。", "request_id": refused.headers["x-request-id"]}
    items = (await client.get("/api/v1/items", headers=auth)).json()
    assert next(i for i in items if i["question_id"] == "b-single")["answered"] == 2
    assert (await client.get("/api/v1/summary")).status_code == 401

    await sign_in(client, "manager.a@example.com")
    tokens = BeautifulSoup((await client.get("/account/tokens")).text, "html.parser")
    revoke = tokens.select_one("form[action$='/revoke']")["action"]
    await client.post(revoke)
    client.cookies.clear()
    assert (await client.get("/api/v1/summary", headers=auth)).status_code == 401


async def test_learner_tokens_are_refused(client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, "e1@example.com")
    assert (await client.post("/account/tokens", data={"name": "x"})).status_code == 403


async def test_api_is_documented_in_openapi(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    assert {"/api/v1/summary", "/api/v1/employees", "/api/v1/items", "/api/v1/misconceptions"} <= set(schema["paths"])
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free local port, collecting what it receives."""
    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self) -> None:
            self.messages: list[tuple[str, list[str], bytes]] = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, handler
    controller.stop()


async def test_reminders_go_through_smtp_and_are_logged(
    app, client: httpx.AsyncClient, db: AsyncSession, org: Org, smtp_server
) -> None:
    controller, handler = smtp_server
    app.state.settings = app.state.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": controller.port, "smtp_starttls": False}
    )
    await sign_in(client, "manager.a@example.com")
    response = await client.post("/dashboard/remind", data={"course": org.course.slug, "all_overdue": "true"})
    assert response.status_code == 303 and "job=" in response.headers["location"]
    assert handler.messages == []  # the request only enqueued the work
    job_id = response.headers["location"].rsplit("job=", 1)[1]
    panel = await client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    assert "待機中" in panel.text and 'hx-trigger="every 1s"' in panel.text  # the page follows the job
    assert await run_jobs(app) == 2  # the 督促, then the delivery of its mails
    panel = await client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})
    assert "2人に督促しました" in panel.text and "hx-trigger" not in panel.text
    assert sorted(rcpt[0] for _from, rcpt, _body in handler.messages) == ["e1@example.com", "e3@example.com"]
    from email import message_from_bytes, policy

    mail = message_from_bytes(handler.messages[0][2], policy=policy.default)
    assert mail["Subject"] == "【受講のお願い】テスト用ミニコース"
    assert "/courses/mini-course" in mail.get_content()
    await sign_in(client, "admin@example.com")
    outbox = BeautifulSoup((await client.get("/admin/outbox")).text, "html.parser")
    assert len(outbox.select("details")) == 2 and len(outbox.select(".badge-passed")) == 2
    person = await client.get(f"/dashboard/employees/{org.users['e1'].id}")
    assert "督促の記録" in person.text and "まだ督促していません" not in person.text


async def test_without_smtp_reminders_wait_in_the_outbox(app, client: httpx.AsyncClient, org: Org) -> None:
    await sign_in(client, "manager.b@example.com")
    # manager B picks e4 (not late, in scope) and e1 (outside B's scope): only e4 is reminded
    response = await client.post(
        "/dashboard/remind",
        data={"course": org.course.slug, "user_ids": [str(org.users["e4"].id), str(org.users["e1"].id)]},
    )
    assert "job=" in response.headers["location"]
    assert await run_jobs(app) == 1  # no SMTP: no delivery job
    page = await client.get(response.headers["location"])
    assert f'hx-get="/jobs/{response.headers["location"].rsplit("job=", 1)[1]}"' in page.text
    await sign_in(client, "admin@example.com")
    outbox = BeautifulSoup((await client.get("/admin/outbox")).text, "html.parser")
    summaries = [summary.get_text(" ", strip=True) for summary in outbox.select("summary")]
    assert len(summaries) == 1 and "e4@example.com" in summaries[0]
    assert len(outbox.select(".badge-not_started")) == 1
    await sign_in(client, "manager.b@example.com")
    assert (await client.get("/admin/outbox")).status_code == 403


async def test_the_table_comes_first_direct_members_are_named_and_questions_say_where_they_are(
    client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    await sign_in(client, "manager.a@example.com")  # manages 営業部 (one member) and 第一課 below it
    page = await client.get("/dashboard")
    html = page.text
    assert html.index('id="headline-title"') < html.index('id="employee-table"') < html.index('id="analysis"')
    soup = BeautifulSoup(html, "html.parser")
    departments = [row.select_one("td").get_text(strip=True) for row in soup.select("#analysis table.compact tbody tr")]
    assert departments == ["営業部(直属)", "第一課"]  # not a bare 営業部 at 0 % beside its own subtree
    assert soup.select_one("#analysis table.compact tfoot").get_text(" ", strip=True) == "合計 1 / 3 2"
    assert "営業部(直属)" in soup.select_one("svg.chart-bar").get_text()  # the chart says it too

    titles = set(await db.scalars(select(Quiz.title)))
    tests = [cell.get_text() for cell in soup.select(".prompt-cell .item-test")]
    assert tests and set(tests) <= titles and len(tests) == len(soup.select(".prompt-cell"))


def test_a_scene_is_named_by_its_opening_words_without_markdown() -> None:
    assert scene_excerpt("客が**大声で**店長を出せと言っています。") == "客が大声で店長を出せと言っています。"
    long = "家電量販店。" + "お客様が" * 30
    assert scene_excerpt(long) == long[:39] + "…" and len(scene_excerpt(long)) == 40
    assert scene_excerpt("> 引用\n\n[リンク](https://example.com) の後") == "引用 リンク の後"
    assert scene_excerpt(None) == scene_excerpt("") == ""


def test_a_group_with_another_inside_its_subtree_counts_its_own_members_only() -> None:
    def figures(department_id: int, path: str) -> DepartmentFigures:
        return DepartmentFigures(department_id, f"d{department_id}", path, 1, 0, 0)

    groups = [figures(1, "/1/"), figures(2, "/1/2/"), figures(3, "/1/3/"), figures(4, "/4/")]
    assert own_members_only(groups) == {1}
    assert own_members_only([figures(2, "/1/2/"), figures(3, "/1/3/")]) == set()
    assert own_members_only([figures(1, "/1/"), figures(11, "/11/")]) == set()  # /11/ is not under /1/


async def test_a_reminder_is_confirmed_with_its_count_skips_are_named_and_once_a_day_is_the_limit(
    app, client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    org.users["e3"].email = None  # a store employee who signs in by 社員番号
    org.users["e3"].employee_number = "E0003"
    await db.commit()
    await sign_in(client, "manager.a@example.com")
    asked = {"course": org.course.slug, "all_overdue": "true", "back": "/dashboard?status=overdue"}
    confirm = await client.post("/dashboard/remind/confirm", data=asked)
    assert confirm.status_code == 200
    soup = BeautifulSoup(confirm.text, "html.parser")
    assert soup.select_one("#to-send").get_text() == "1人に督促メールを送ります"
    assert [li.get_text() for li in soup.select(".name-list li")] == ["社員1"]
    skipped = [[td.get_text() for td in tr.select("td")] for tr in soup.select("section:has(#skipped) tbody tr")]
    assert skipped == [["社員3", reminders.NO_EMAIL]]
    form = soup.select_one("form[action='/dashboard/remind']")
    assert {i["name"]: i["value"] for i in form.select("input[type=hidden]")} == asked
    assert form.select_one("button").get_text() == "1人に送る"
    assert await db.scalar(select(func.count(Reminder.id))) == 0  # nothing sent by asking
    assert await db.scalar(select(func.count(Job.id)).where(Job.kind == "reminders.send")) == 0

    sent = await client.post("/dashboard/remind", data=asked)
    assert sent.status_code == 303
    await run_jobs(app)
    assert await db.scalar(select(func.count(Reminder.id))) == 1

    again = BeautifulSoup((await client.post("/dashboard/remind/confirm", data=asked)).text, "html.parser")
    assert again.select_one("#to-send").get_text() == "督促メールを送れる人はいません"
    reasons = {tr.select("td")[0].get_text(): tr.select("td")[1].get_text() for tr in again.select("tbody tr")}
    assert reasons == {"社員1": reminders.ALREADY_TODAY, "社員3": reminders.NO_EMAIL}
    assert again.select_one("form[action='/dashboard/remind'] button") is None
    # a second request anyway (another tab, a retry): the job reminds nobody twice on the same day
    await client.post("/dashboard/remind", data=asked)
    await run_jobs(app)
    assert await db.scalar(select(func.count(Reminder.id))) == 1


def test_a_day_of_reminders_starts_at_midnight_in_japan() -> None:
    assert reminders.start_of_day(datetime(2026, 12, 4, 16, 30, tzinfo=UTC)) == datetime(2026, 12, 4, 15, 0, tzinfo=UTC)
    assert reminders.start_of_day(datetime(2026, 12, 4, 14, 59, tzinfo=UTC)) == datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
