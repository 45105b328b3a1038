"""ユーザー管理 through the web: the HR CSV import (dry run, apply, failure), deactivation, create and edit,
the audit log, and who may use any of it. Figures are checked in the database and on the parsed pages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.audit.routes import router as audit_router
from app.auth.models import Role, User, UserSession
from app.core.db import utcnow
from app.core.templating import TIMEZONE
from app.enrolments.models import Enrollment
from app.jobs.context import JobContext
from app.jobs.models import Job, JobState
from app.org.models import Department, ManagedDepartment
from app.progress.models import CourseStatus, LessonProgress
from app.quiz.models import Attempt
from app.users import import_apply as users_imports
from app.users import import_jobs
from app.users import service as users_service
from app.users.models import UserImport
from tests.conftest import PASSWORD, make_user, run_jobs, sign_in
from tests.org_fixture import Org
from tests.users.conftest import (
    IMPORT_TABLES,
    apply,
    assigned_by_department,
    browser,
    csv_bytes,
    department_path,
    digest_of,
    figures,
    fresh,
    headline,
    import_csv,
    row,
    signed_in,
    soup,
    table_rows,
    upload,
    user_by_number,
)

# e1 moves to a department that does not exist yet, e2 is unchanged, two people join (one manages 第二課).
MIXED = [
    row("E001", "営業 一郎", "e1@example.com", "本社/営業部/第二課"),
    row("E002", "社員2", "e2@example.com", "本社/営業部/第一課"),
    row("N001", "新人 一郎", "", "本社/営業部/第一課"),
    row("N002", "新任 課長", "kacho@example.com", "本社/営業部/第二課", "", "1", ""),
]


def plan_rows(page) -> list[tuple[str, str, str, list[str]]]:
    """(kind, line, 社員番号, changes) of each planned change on the dry run page."""
    rows = []
    for tr in page.select("table.plan tbody tr"):
        cells = tr.find_all("td")
        changes = [div.get_text(" ", strip=True) for div in cells[4].find_all("div")]
        rows.append((cells[1].get_text(strip=True), cells[0].get_text(strip=True), cells[2].get_text(), changes))
    return rows


def alert(page) -> str:
    found = page.select_one("main [role=alert]")
    assert found is not None, page.get_text()
    return found.get_text(" ", strip=True)


async def count(db: AsyncSession, model: Any, *where: Any) -> int:
    await db.commit()
    return await db.scalar(select(func.count()).select_from(model).where(*where)) or 0


# --- the CSV import --------------------------------------------------------------------------------------------


async def test_dry_run_shows_the_plan_and_writes_nothing(
    admin_client: httpx.AsyncClient, db: AsyncSession, numbered: Org
) -> None:
    before = await table_rows(db)
    _import_id, page = await upload(admin_client, csv_bytes(MIXED))
    assert figures(page) == {"人を作成": 2, "人を更新": 1, "人を無効化": 0, "人は変更なし": 1}
    assert plan_rows(page) == [
        ("作成", "4", "N001", ["氏名: 新人 一郎", "部署: 本社/営業部/第一課", "役割: 受講者"]),
        (
            "作成",
            "5",
            "N002",
            [
                "氏名: 新任 課長",
                "メールアドレス: kacho@example.com",
                "部署: 本社/営業部/第二課",
                "役割: 管理者",
                "管理部署: 本社/営業部/第二課",
            ],
        ),
        ("更新", "2", "E001", ["氏名: 社員1 → 営業 一郎", "部署: 本社/営業部 → 本社/営業部/第二課"]),
    ]
    assert page.select_one("#plan-errors") is None
    assert digest_of(page)
    assert await table_rows(db) == before  # not a user, department or enrollment before 取り込む


async def test_applying_creates_updates_and_brings_the_roster_up_to_date(
    admin_client: httpx.AsyncClient, db: AsyncSession, numbered: Org
) -> None:
    course = numbered.course
    assert await assigned_by_department(db, course.id) == {"本社/営業部": 1, "本社/営業部/第一課": 2, "本社/店舗部": 2}
    import_id, page = await upload(admin_client, csv_bytes(MIXED))
    response = await apply(admin_client, import_id, digest_of(page))
    assert response.status_code == 303 and response.headers["location"].startswith(
        f"/admin/users/import/{import_id}?job="
    )
    done = soup(await admin_client.get(response.headers["location"])).select_one(".job-panel .alert-success")
    assert done.get_text(" ", strip=True) == "取り込みました: 作成 2 人、更新 1 人、無効化 0 人。 ユーザー一覧へ"

    second = await db.scalar(select(Department).where(Department.name == "第二課"))
    assert second is not None and second.parent_id == numbered.departments["営業部"].id
    newcomer, manager, moved = [await user_by_number(db, n) for n in ("N001", "N002", "E001")]
    assert (newcomer.display_name, newcomer.email, newcomer.role, newcomer.password_hash) == (
        "新人 一郎",
        None,
        "learner",
        None,
    )
    assert await department_path(db, newcomer.department_id) == "本社/営業部/第一課"
    assert (manager.role, manager.email, manager.department_id) == ("manager", "kacho@example.com", second.id)
    assert await users_service.managed_department_ids(db, user_id=manager.id) == [second.id]
    assert (moved.display_name, moved.department_id) == ("営業 一郎", second.id)
    # The course is assigned to 本社, so the newcomers are enrolled with its due date and counted where they sit.
    due = await db.scalar(select(Enrollment.due_at).where(Enrollment.user_id == numbered.users["e2"].id))
    enrollments = await db.scalars(
        select(Enrollment).where(Enrollment.user_id.in_([newcomer.id, manager.id])).order_by(Enrollment.user_id)
    )
    assert [(e.user_id, e.course_id, e.due_at) for e in enrollments] == [
        (newcomer.id, course.id, due),
        (manager.id, course.id, due),
    ]
    assert await assigned_by_department(db, course.id) == {
        "本社/営業部/第一課": 3,
        "本社/営業部/第二課": 2,
        "本社/店舗部": 2,
    }
    assert (await headline(db, course.id)).assigned == 7

    again = await apply(admin_client, import_id, digest_of(page))
    assert again.status_code == 409 and alert(soup(again)) == "この CSV はすでに取り込み済みです。"
    assert await count(db, User) == 10

    _second_id, replay = await upload(admin_client, csv_bytes(MIXED))
    assert figures(replay) == {"人を作成": 0, "人を更新": 0, "人を無効化": 0, "人は変更なし": 4}
    assert replay.select_one("form[action$='/apply']") is None
    assert replay.select_one("main .alert-success").get_text().startswith("変更はありません")


async def test_every_row_error_is_shown_with_its_line_and_column(
    admin_client: httpx.AsyncClient, numbered: Org
) -> None:
    data = csv_bytes(
        [
            row("N001", "新人 一郎"),
            row("N002", "新人 二郎", "not-an-email"),
            row("N003", ""),
            row("N001", "重複 太郎"),
            row("N004", "役割 不明", "", "", "社長", "", ""),
            row("1.2E+07", "指数 表記"),
        ]
    )
    _import_id, page = await upload(admin_client, data)
    errors = [li.get_text() for li in page.select("#plan-errors li")]
    located = [text.split(":", 1)[0] for text in errors]
    assert located == [
        "3 行目「メールアドレス」",
        "4 行目「氏名」",
        "5 行目「社員番号」",
        "6 行目「役割」",
        "7 行目「社員番号」",
    ]
    assert "「@」はちょうど 1 つにしてください" in errors[0]
    assert "2 行目と重複しています" in errors[2]
    assert "Excel で数値に変換されたようです" in errors[4]
    assert "5 件の問題があります" in page.select_one("#plan-errors p").get_text()
    assert page.select_one("form[action$='/apply']") is None

    _import_id, whole_file = await upload(admin_client, csv_bytes([["N001", "x"]], header=["社員番号", "名前"]))
    assert whole_file.select_one("#plan-errors li").get_text().startswith("ファイル全体「氏名」: 必須の列「氏名」")


async def test_a_file_with_errors_cannot_be_applied_and_changes_nothing(
    admin_client: httpx.AsyncClient, db: AsyncSession, numbered: Org
) -> None:
    data = csv_bytes([*MIXED, row("N003", "", "", "本社/新設部")])
    before = await table_rows(db)
    import_id, page = await upload(admin_client, data, deactivate_missing=True)
    assert page.select_one("form[action$='/apply']") is None
    # POSTing anyway, with the digest of exactly this plan: its good rows would be written if anything were.
    stored = await users_imports.get_upload(db, import_id=import_id)
    plan = await users_imports.plan_upload(db, upload=stored, acting_user_id=numbered.users["admin"].id)
    assert plan.creates and not plan.ok
    response = await apply(admin_client, import_id, plan.digest())
    assert response.status_code == 422
    assert alert(soup(response)).startswith("CSV に 1 件の問題があります")
    assert await table_rows(db) == before
    assert (await db.get(UserImport, import_id, populate_existing=True)).applied_at is None


async def test_a_plan_that_changed_since_the_preview_is_refused(
    admin_client: httpx.AsyncClient, db: AsyncSession, numbered: Org
) -> None:
    import_id, page = await upload(admin_client, csv_bytes(MIXED))
    e1 = numbered.users["e1"]
    form = {
        "name": "社員1",
        "employee_number": "E001",
        "email": "e1.new@example.com",
        "role": "learner",
        "department_id": str(numbered.departments["営業部"].id),
    }
    assert (await admin_client.post(f"/admin/users/{e1.id}", data=form)).status_code == 303
    before = await table_rows(db)
    response = await apply(admin_client, import_id, digest_of(page))
    assert response.status_code == 409
    assert alert(soup(response)).startswith("確認した後にユーザー情報が変わったため")
    assert await table_rows(db) == before
    # The page shown again has the new plan (the address moves back), and that one applies.
    refreshed = soup(await admin_client.get(f"/admin/users/import/{import_id}"))
    assert "メールアドレス: e1.new@example.com → e1@example.com" in plan_rows(refreshed)[-1][3]
    assert (await apply(admin_client, import_id, digest_of(refreshed))).status_code == 303
    assert (await user_by_number(db, "E001")).email == "e1@example.com"


async def test_a_failure_in_the_middle_of_applying_is_retried_and_finishes_once(
    app, db: AsyncSession, numbered: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = csv_bytes([*MIXED, row("N003", "別部署 三郎", "", "本社/新設部")])
    async with browser(app, raise_app_exceptions=False) as admin:
        await signed_in(admin, "admin@example.com")
        import_id, page = await upload(admin, data, deactivate_missing=True)
        assert figures(page)["人を無効化"] == 3  # E003, E004, E005

        async def fail(*args: object, **kwargs: object) -> None:
            raise RuntimeError("disk full")

        # resync_roster runs after every user row of a chunk has been written and flushed.
        monkeypatch.setattr(users_service, "resync_roster", fail)
        before = await table_rows(db)
        response = await apply(admin, import_id, digest_of(page))
        assert response.status_code == 303  # the request only enqueued the work
        assert await table_rows(db) == before  # the failed chunk left no user, department or audit row behind
        assert (await db.get(UserImport, import_id, populate_existing=True)).applied_at is None
        job = await db.scalar(select(Job).where(Job.kind == "users.apply_import"))
        assert job.state == JobState.FAILED and "disk full" in job.last_error
        again = soup(await admin.get(response.headers["location"]))
        assert again.select_one("form[action$='/apply']") is None  # no second job while this one retries
        assert "自動でやり直します" in again.select_one(".job-panel").get_text()

        monkeypatch.undo()
        await db.execute(update(Job).values(run_at=utcnow()))  # the backoff has passed
        await db.commit()
        assert await run_jobs(app) == 1
    assert not (await user_by_number(db, "E003")).is_active
    assert await db.scalar(select(Department).where(Department.name == "新設部")) is not None
    entries = list(await db.scalars(select(AuditEvent).where(AuditEvent.action == "users.import")))
    assert len(entries) == 1 and entries[0].details["creates"] == 3  # recorded once, with the whole file's figures


async def test_a_big_file_is_applied_in_chunks_with_progress(
    app, admin_client: httpx.AsyncClient, db: AsyncSession, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_jobs, "CHUNK_SIZE", 7)
    rows = [row(f"B{i:03d}", f"一括 {i}", f"b{i}@example.com", "本社/一括部") for i in range(30)]
    import_id, page = await upload(admin_client, csv_bytes(rows))
    steps: list[int] = []
    real_step = JobContext.step

    async def watch(self: JobContext, session: AsyncSession, **kwargs: Any) -> None:
        await real_step(self, session, **kwargs)
        if kwargs.get("done") is not None:
            steps.append(kwargs["done"])

    monkeypatch.setattr(JobContext, "step", watch)
    assert (await apply(admin_client, import_id, digest_of(page))).status_code == 303
    assert steps == [0, 7, 14, 21, 28, 30]  # each chunk of new people committed with its progress
    assert len([u for u in await db.scalars(select(User).where(User.employee_number.like("B%")))]) == 30
    job = await db.scalar(select(Job).where(Job.kind == "users.apply_import"))
    assert job.state == JobState.SUCCEEDED and (job.progress_done, job.progress_total) == (30, 30)


# --- the "done when": 200 employees from an Excel CSV ----------------------------------------------------------

# 髙, 﨑, 德 and 濵 exist in CP932 only (not in JIS X 0208), which is what Excel on Japanese Windows writes.
SURNAMES = ["髙橋", "山﨑", "德永", "濵田", "神﨑", "佐藤", "鈴木", "橋本"]
GIVEN_NAMES = ["一郎", "花子", "次郎", "美咲", "健太"]
PLACES = ["本社/営業部/第一課", "本社/店舗部/渋谷店", "本社/店舗部/梅田店", "本社/コールセンター"]
MANAGERS = {1, 42, 83, 124}


def employees() -> list[dict[str, Any]]:
    people = []
    for i in range(1, 201):
        people.append(
            {
                "number": f"K{i:04d}",
                "name": f"{SURNAMES[i % 8]} {GIVEN_NAMES[i % 5]}",
                "email": None if i % 3 == 0 else f"k{i:04d}@example.co.jp",
                "department": PLACES[i % 4],
                "role": "admin" if i == 200 else "manager" if i in MANAGERS else "learner",
            }
        )
    return people


def employee_csv(encoding: str) -> bytes:
    rows = [
        row(
            p["number"],
            p["name"],
            p["email"] or "",
            p["department"],
            "システム管理者" if p["role"] == "admin" else "",
            "1" if p["role"] == "manager" else "",
            "",
        )
        for p in employees()
    ]
    return csv_bytes(rows, encoding=encoding)


@pytest.mark.parametrize(
    ("encoding", "label"),
    [("cp932", "Shift_JIS (CP932)"), ("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 (BOM 付き)")],
)
async def test_two_hundred_employees_from_an_excel_csv(
    admin_client: httpx.AsyncClient, db: AsyncSession, org: Org, encoding: str, label: str
) -> None:
    data = employee_csv(encoding)
    if encoding == "cp932":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    page = await import_csv(admin_client, data)
    assert figures(page)["人を作成"] == 200
    assert f"文字コード: {label}" in [p.get_text() for p in page.select("p.muted.small")]

    await db.commit()
    people = {p["number"]: p for p in employees()}
    users = list(await db.scalars(select(User).where(User.employee_number.like("K%"))))
    assert len(users) == 200
    managed = {(m.user_id, m.department_id) for m in await db.scalars(select(ManagedDepartment))}
    for user in users:
        expected = people[user.employee_number]
        assert (user.display_name, user.email, user.role, user.is_active, user.password_hash) == (
            expected["name"],
            expected["email"],
            expected["role"],
            True,
            None,
        )
        assert await department_path(db, user.department_id) == expected["department"]
        assert ((user.id, user.department_id) in managed) == (expected["role"] == "manager")
    assert {u.display_name for u in users} >= {"髙橋 一郎", "山﨑 次郎", "德永 健太", "濵田 花子", "神﨑 美咲"}
    # Existing levels are reused, missing ones created once.
    names = list(await db.scalars(select(Department.name)))
    assert sorted(names) == sorted(["本社", "営業部", "第一課", "店舗部", "渋谷店", "梅田店", "コールセンター"])
    assert await count(db, Enrollment, Enrollment.user_id.in_([u.id for u in users])) == 200
    assert (await headline(db, org.course.id)).assigned == 205
    assert await assigned_by_department(db, org.course.id) == {
        "本社/営業部": 1,
        "本社/営業部/第一課": 52,
        "本社/店舗部": 2,
        "本社/店舗部/渋谷店": 50,
        "本社/店舗部/梅田店": 50,
        "本社/コールセンター": 50,
    }


# --- 在籍していない社員を無効にする ---------------------------------------------------------------------------


async def test_people_missing_from_a_full_list_are_deactivated_and_come_back_later(
    app, admin_client: httpx.AsyncClient, db: AsyncSession, numbered: Org
) -> None:
    course, e4, e5 = numbered.course, numbered.users["e4"], numbered.users["e5"]
    attempts = await count(db, Attempt, Attempt.user_id == e4.id)
    assert attempts > 0
    assert (await headline(db, course.id)).assigned == 5
    staying = [
        row("E001", "社員1", "e1@example.com", "本社/営業部"),
        row("E002", "社員2", "e2@example.com", "本社/営業部/第一課"),
        row("E003", "社員3", "e3@example.com", "本社/営業部/第一課"),
    ]
    async with browser(app) as e4_browser:
        await signed_in(e4_browser, "e4@example.com")
        assert (await e4_browser.get("/my")).status_code == 200

        page = await import_csv(admin_client, csv_bytes(staying), deactivate_missing=True)
        assert figures(page) == {"人を作成": 0, "人を更新": 0, "人を無効化": 2, "人は変更なし": 3}
        assert [(kind, number, changes) for kind, _line, number, changes in plan_rows(page)] == [
            ("無効化", "E004", ["状態: 有効 → 無効"]),
            ("無効化", "E005", ["状態: 有効 → 無効"]),
        ]
        notes = [p.get_text() for p in page.select("p.muted.small")]
        assert "あなたの社員番号「A001」はファイルにありませんが、あなた自身は無効にしません" in notes

        # Signed out at once, and cannot sign in again.
        signed_out = await e4_browser.get("/my")
        assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login")
        assert await count(db, UserSession, UserSession.user_id == e4.id) == 0
        assert (await sign_in(e4_browser, "E004")).status_code == 401

    for key, active in [("e4", False), ("e5", False), ("admin", True), ("manager_a", True), ("manager_b", True)]:
        user = await fresh(db, numbered.users[key])
        assert user.is_active is active, key
        assert (user.deactivated_at is None) is active
    # History stays: attempts and progress are kept, the people are still listed; the roster no longer counts them.
    assert await count(db, Attempt, Attempt.user_id == e4.id) == attempts
    assert await count(db, LessonProgress, LessonProgress.user_id == e4.id) == 1
    assert await count(db, CourseStatus, CourseStatus.user_id == e4.id) == 1
    listing = soup(await admin_client.get("/admin/users", params={"status": "inactive"}))
    assert [a.get_text() for a in listing.select("table.users tbody td a")] == ["社員4", "社員5"]
    assert (await headline(db, course.id)).assigned == 3
    assert "本社/店舗部" not in await assigned_by_department(db, course.id)
    assert (await sign_in(admin_client, "admin@example.com")).status_code == 303  # the admin was kept

    back = await import_csv(
        admin_client,
        csv_bytes([*staying, row("E004", "社員4", "e4@example.com", "本社/店舗部")]),
        deactivate_missing=True,
    )
    assert [(kind, number) for kind, _line, number, _changes in plan_rows(back)] == [("再有効化", "E004")]
    assert (await fresh(db, e4)).is_active and not (await fresh(db, e5)).is_active
    assert (await sign_in(admin_client, "E004", PASSWORD)).status_code == 303  # the password survived
    assert await assigned_by_department(db, course.id) == {"本社/営業部": 1, "本社/営業部/第一課": 2, "本社/店舗部": 1}
    assert (await headline(db, course.id)).assigned == 4


# --- create and edit -------------------------------------------------------------------------------------------


async def edit_form(client: httpx.AsyncClient, user_id: int) -> dict[str, Any]:
    """The edit form's current values, as the browser would send them back."""
    page = soup(await client.get(f"/admin/users/{user_id}"))
    form = page.select_one("form.user-form")
    values: dict[str, Any] = {
        n: form.select_one(f"input[name={n}]")["value"] for n in ("name", "employee_number", "email")
    }
    values["role"] = form.select_one("input[name=role][checked]")["value"]
    selected = form.select_one("select[name=department_id] option[selected]")
    values["department_id"] = selected["value"] if selected else ""
    values["managed"] = [option["value"] for option in form.select("select[name=managed] option[selected]")]
    return values


async def test_creating_a_person_without_an_email(admin_client: httpx.AsyncClient, db: AsyncSession, org: Org) -> None:
    shop = org.departments["店舗部"]
    form = {
        "name": " 店舗  花子 ",
        "employee_number": "Ｓ１００",
        "email": "",
        "role": "learner",
        "department_id": str(shop.id),
    }
    response = await admin_client.post("/admin/users/new", data=form)
    assert response.status_code == 303
    user = await user_by_number(db, "S100")
    assert response.headers["location"] == f"/admin/users/{user.id}?created=1"
    assert (user.display_name, user.email, user.role, user.department_id, user.password_hash) == (
        "店舗 花子",
        None,
        "learner",
        shop.id,
        None,
    )
    assert (await headline(db, org.course.id)).assigned == 6
    assert (await assigned_by_department(db, org.course.id))["本社/店舗部"] == 3
    assert await edit_form(admin_client, user.id) == {
        "name": "店舗 花子",
        "employee_number": "S100",
        "email": "",
        "role": "learner",
        "department_id": str(shop.id),
        "managed": [],
    }


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"employee_number": "E001"}, 409, "社員番号 E001 は別のユーザーが使っています。"),
        ({"employee_number": "Ｅ００１"}, 409, "社員番号 E001 は別のユーザーが使っています。"),
        ({"email": "E1@Example.com"}, 409, "メールアドレス e1@example.com は別のユーザーが使っています。"),
        ({"employee_number": "", "email": ""}, 422, "メールアドレスか社員番号のどちらかを入力してください"),
        ({"role": "manager"}, 422, "管理者には、管理する部署を1つ以上選んでください。"),
        ({"name": "  "}, 422, "氏名を入力してください"),
        ({"name": "長" * 101}, 422, "氏名は 100 文字以内にしてください"),
        ({"employee_number": "社員1"}, 422, "社員番号は半角英数字と - _ で 50 文字までにしてください"),
    ],
)
async def test_creating_refuses_clashes_and_incomplete_forms(
    client: httpx.AsyncClient, db: AsyncSession, staff: dict[str, User], changes: dict, status: int, message: str
) -> None:
    admin_client = await signed_in(client, "admin@example.com")
    users = await count(db, User)
    form = {
        "name": "新人 一郎",
        "employee_number": "N001",
        "email": "",
        "role": "learner",
        "department_id": "",
        **changes,
    }
    response = await admin_client.post("/admin/users/new", data=form)
    assert response.status_code == status
    page = soup(response)
    errors = [li.get_text() for li in page.select("#form-errors li")]
    assert errors == [message]
    assert page.select_one("input[name=name]")["value"] == form["name"]  # what was typed is kept
    assert await count(db, User) == users
    assert await count(db, AuditEvent, AuditEvent.action == "user.create") == 0


async def test_editing_role_and_department_is_audited_and_recounts_both_departments(
    admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    e1, course = org.users["e1"], org.course
    assert await assigned_by_department(db, course.id) == {"本社/営業部": 1, "本社/営業部/第一課": 2, "本社/店舗部": 2}
    form = await edit_form(admin_client, e1.id)
    assert form["department_id"] == str(org.departments["営業部"].id) and form["role"] == "learner"
    form.update(
        department_id=str(org.departments["店舗部"].id), role="manager", managed=[str(org.departments["店舗部"].id)]
    )
    response = await admin_client.post(f"/admin/users/{e1.id}", data=form)
    assert response.status_code == 303 and response.headers["location"] == f"/admin/users/{e1.id}?saved=1"

    user = await fresh(db, e1)
    assert (user.role, user.department_id) == ("manager", org.departments["店舗部"].id)
    assert await users_service.managed_department_ids(db, user_id=e1.id) == [org.departments["店舗部"].id]
    assert await assigned_by_department(db, course.id) == {"本社/営業部/第一課": 2, "本社/店舗部": 3}
    assert (await headline(db, course.id)).assigned == 5
    events = {e.action: e for e in await db.scalars(select(AuditEvent).where(AuditEvent.target_id == e1.id))}
    assert set(events) == {"user.role_change", "user.update"}
    assert events["user.role_change"].summary == "社員1 の役割: 受講者 → 管理者"
    assert events["user.role_change"].details == {"old": "learner", "new": "manager"}
    assert events["user.update"].details["department_id"] == [
        str(org.departments["営業部"].id),
        str(org.departments["店舗部"].id),
    ]
    assert {e.actor_id for e in events.values()} == {org.users["admin"].id}

    # Saving the form unchanged writes no audit entry.
    assert (await admin_client.post(f"/admin/users/{e1.id}", data=await edit_form(admin_client, e1.id))).is_redirect
    assert await count(db, AuditEvent, AuditEvent.target_id == e1.id) == 2


async def test_the_admin_cannot_demote_or_deactivate_themselves(
    client: httpx.AsyncClient, db: AsyncSession, staff: dict[str, User]
) -> None:
    admin, admin_client = staff["admin"], await signed_in(client, "admin@example.com")
    form = {**await edit_form(admin_client, admin.id), "role": "learner"}
    demoted = await admin_client.post(f"/admin/users/{admin.id}", data=form)
    assert demoted.status_code == 403
    assert [li.get_text() for li in soup(demoted).select("#form-errors li")] == [
        "自分自身の役割はここでは変えられません(管理者がいなくなるのを防ぐため)。"
    ]
    deactivated = await admin_client.post(f"/admin/users/{admin.id}/deactivate")
    assert deactivated.status_code == 403 and alert(soup(deactivated)) == "自分自身は無効にできません。"
    user = await fresh(db, admin)
    assert (user.role, user.is_active) == ("admin", True)
    assert (await admin_client.get("/admin/users")).status_code == 200  # still signed in, still an admin
    assert await count(db, AuditEvent) == 0


# --- the audit log ---------------------------------------------------------------------------------------------


def audit_rows(page) -> list[list[str]]:
    return [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in page.select("table.audit tbody tr")]


async def test_every_user_action_is_audited_and_the_log_filters(
    app, admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    admin = org.users["admin"]
    form = {
        "name": "監査 花子",
        "employee_number": "S200",
        "email": "s200@example.com",
        "role": "learner",
        "department_id": str(org.departments["店舗部"].id),
    }
    created = await admin_client.post("/admin/users/new", data=form)
    user_id = int(created.headers["location"].split("/")[-1].split("?")[0])
    form.update(role="manager", managed=[str(org.departments["店舗部"].id)])
    await admin_client.post(f"/admin/users/{user_id}", data=form)
    await admin_client.post(f"/admin/users/{user_id}/password-link")
    await admin_client.post(f"/admin/users/{user_id}/deactivate")
    await admin_client.post(f"/admin/users/{user_id}/reactivate")
    await import_csv(admin_client, csv_bytes([row("S300", "取込 太郎")]))

    await db.commit()
    events = list(await db.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [(e.action, e.summary) for e in events] == [
        ("user.create", "監査 花子 を作成(受講者)"),
        ("user.role_change", "監査 花子 の役割: 受講者 → 管理者"),
        ("user.update", "監査 花子 の情報を変更(managed_department_ids)"),
        ("user.password_link", "監査 花子 にパスワード設定リンクを発行(メール送信)"),
        ("user.deactivate", "監査 花子 を無効化"),
        ("user.reactivate", "監査 花子 を再有効化"),
        ("users.import", "社員 CSV(社員.csv)を取り込み: 作成 1、更新 0、無効化 0"),
    ]
    assert {(e.actor_id, e.actor_name) for e in events} == {(admin.id, "管理者")}
    assert {e.target_id for e in events[:-1]} == {user_id}

    log = soup(await admin_client.get("/admin/audit", params={"action": "user.deactivate"}))
    assert [r[1:] for r in audit_rows(log)] == [["管理者", "無効化", "監査 花子 を無効化 ユーザー"]]

    other = await make_user(db, "admin2@example.com", Role.ADMIN, "副管理者")
    async with browser(app) as second:
        await signed_in(second, "admin2@example.com")
        assert (await second.post(f"/admin/users/{org.users['e1'].id}/password-link")).status_code == 200
    by_other = soup(await admin_client.get("/admin/audit", params={"actor": str(other.id)}))
    assert [r[1:3] for r in audit_rows(by_other)] == [["副管理者", "パスワード設定リンクの発行"]]
    assert [o.get_text() for o in by_other.select("#actor option")] == ["すべて", "副管理者", "管理者"]
    assert len(audit_rows(soup(await admin_client.get("/admin/audit", params={"actor": str(admin.id)})))) == 7

    # An entry from long ago (12:00 in Japan on 15 January 2020) for the date filter's edges.
    db.add(
        AuditEvent(
            at=datetime(2020, 1, 15, 3, tzinfo=UTC),
            actor_id=admin.id,
            actor_name="管理者",
            action="user.update",
            target_type="user",
            target_id=user_id,
            summary="昔の変更",
        )
    )
    await db.commit()
    today = datetime.now(TIMEZONE).date().isoformat()
    for since, until, expected in [
        ("2020-01-01", "2020-01-15", 1),
        ("2020-01-16", "", 8),
        ("", "2020-01-14", 0),
        (today, today, 8),
        ("", "", 9),
    ]:
        page = soup(await admin_client.get("/admin/audit", params={"since": since, "until": until}))
        rows = [r for r in audit_rows(page) if len(r) == 4]
        assert len(rows) == expected, (since, until)
        if expected == 1:
            assert rows[0][3].startswith("昔の変更") and rows[0][0].startswith("2020")


async def test_the_audit_log_cannot_be_changed_through_the_app(app, admin_client: httpx.AsyncClient) -> None:
    paths = {path: set(methods) for path, methods in app.openapi()["paths"].items() if path.startswith("/admin/audit")}
    assert paths == {"/admin/audit": {"get"}}
    assert [(route.path, route.methods) for route in audit_router.routes] == [("/admin/audit", {"GET"})]
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert (await admin_client.request(method, "/admin/audit")).status_code == 405


# --- who may manage people -------------------------------------------------------------------------------------

ADMIN_REQUESTS = [
    ("GET", "/admin/users"),
    ("GET", "/admin/users/new"),
    ("GET", "/admin/users/{e2}"),
    ("GET", "/admin/users/import/new"),
    ("GET", "/admin/users/slips/choose"),
    ("GET", "/admin/audit"),
    ("POST", "/admin/users/new"),
    ("POST", "/admin/users/{e2}"),
    ("POST", "/admin/users/{e2}/deactivate"),
    ("POST", "/admin/users/{e2}/password-link"),
    ("POST", "/admin/users/import"),
    ("POST", "/admin/users/slips/confirm"),
    ("POST", "/admin/users/slips/1"),
]


@pytest.mark.parametrize("login", ["e1@example.com", "manager.a@example.com"])
async def test_learners_and_managers_are_refused(
    client: httpx.AsyncClient, db: AsyncSession, org: Org, login: str
) -> None:
    await signed_in(client, login)
    before = await table_rows(db, (*IMPORT_TABLES, "user_imports", "outbox_messages"))
    e2 = org.users["e2"].id
    for method, path in ADMIN_REQUESTS:
        path = path.format(e2=e2)
        if path == "/admin/users/import":
            response = await client.post(path, files={"file": ("a.csv", csv_bytes([row("X1", "x")]), "text/csv")})
        elif method == "POST":
            form = {"name": "x", "employee_number": "X1", "role": "admin", "user_ids": str(e2)}
            response = await client.post(path, data=form)
        else:
            response = await client.get(path)
        assert response.status_code == 403, (method, path)
    assert await table_rows(db, (*IMPORT_TABLES, "user_imports", "outbox_messages")) == before
