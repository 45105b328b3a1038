"""Printed password slips: nobody's link changes unless that person was chosen, the admin is told whose links a
print run replaces before it happens, and a run prints once (a reload cannot void slips already handed out)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.admin.user_routes import qr_svg
from app.audit.models import AuditEvent
from app.auth import service as auth_service
from app.auth.models import Role, User
from app.core.db import utcnow
from app.users.models import PasswordSetToken, SlipBatch
from app.users.slips import MAX_PER_BATCH
from tests.conftest import PASSWORD
from tests.org_fixture import Org
from tests.users.conftest import browser, link_path, soup

NEW_PASSWORD = "海辺の図書館で待ち合わせ"


async def staff(db: AsyncSession, number: str, **kw) -> User:
    """Front-line staff with a 社員番号, no e-mail and no password yet."""
    user = await auth_service.create_user(
        db, email=None, password=None, display_name=f"店舗 {number}", employee_number=number, **kw
    )
    await db.commit()
    return user


def numbers(page: BeautifulSoup) -> list[str]:
    return [tr.find_all("td")[1].get_text() for tr in page.select("form[action='/admin/users/slips/confirm'] tbody tr")]


def message(response: httpx.Response) -> str:
    return soup(response).select_one("main [role=alert]").get_text(strip=True)


async def links_of(admin_client: httpx.AsyncClient, *people: User) -> dict[str, str]:
    """A one-time link for each of these people, issued one by one from their pages: {社員番号: /password/…}."""
    paths = {}
    for person in people:
        page = soup(await admin_client.post(f"/admin/users/{person.id}/password-link"))
        paths[person.employee_number] = link_path(page.select_one(".link-card input.copyable")["value"])
    return paths


async def link_works(app, path: str) -> bool:
    async with browser(app) as phone:
        return (await phone.get(path)).status_code == 200


async def confirm(admin_client: httpx.AsyncClient, *people: User) -> tuple[httpx.Response, str]:
    """Choose these people and go to the confirmation: the page, and the print form's action."""
    response = await admin_client.post("/admin/users/slips/confirm", data={"user_ids": [str(p.id) for p in people]})
    assert response.status_code == 200, response.text
    return response, soup(response).select_one("form[target=_blank]")["action"]


async def test_the_chooser_ticks_nobody_until_asked_and_shows_who_holds_a_link(
    admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    departments = org.departments
    s1 = await staff(db, "S001", department_id=departments["第一課"].id)
    await staff(db, "S002", department_id=departments["営業部"].id)
    await staff(db, "S003", department_id=departments["店舗部"].id)
    s4 = await staff(db, "S004", department_id=departments["第一課"].id)
    await staff(db, "S005")
    s4.is_active = False
    await db.commit()
    await links_of(admin_client, s1)

    everyone = soup(await admin_client.get("/admin/users/slips/choose"))
    assert numbers(everyone) == ["S001", "S002", "S003", "S005"]  # not S004 (inactive) nor anyone with a password
    assert everyone.select("input[name=user_ids][checked]") == []
    link_column = {
        tr.find_all("td")[1].get_text(): tr.find_all("td")[4].get_text(strip=True) for tr in everyone.select("tbody tr")
    }
    assert link_column["S001"].startswith("有効(") and link_column["S002"] == "なし"

    page = soup(await admin_client.get("/admin/users/slips/choose", params={"department_id": departments["営業部"].id}))
    assert numbers(page) == ["S001", "S002"]  # 営業部 and the 第一課 below it
    assert page.select_one("#department_id option[selected]").get_text() == "本社/営業部"
    tick_all = page.find("a", string="表示中の全員にチェックを付ける")["href"]
    assert tick_all == f"/admin/users/slips/choose?department_id={departments['営業部'].id}&everyone=1"
    ticked = soup(await admin_client.get(tick_all))
    assert len(ticked.select("input[name=user_ids][checked]")) == 2


async def test_printing_one_persons_slip_leaves_everyone_elses_link_alone(
    app, admin_client: httpx.AsyncClient, db: AsyncSession, org: Org, test_settings
) -> None:
    """The reported defect: three people on the page, one chosen; the other two must keep their links."""
    departments = org.departments
    people = [await staff(db, f"S00{n}", department_id=departments["第一課"].id) for n in (1, 2, 3)]
    before = await links_of(admin_client, *people)

    page, action = await confirm(admin_client, people[1])
    rows = [tr.find_all("td") for tr in soup(page).select("tbody tr")]
    assert [cells[0].get_text() for cells in rows] == ["S002"]
    assert rows[0][3].get_text(strip=True).startswith("使えなくなります")
    warning = soup(page).select_one(".alert-warning").get_text(strip=True)
    assert warning.startswith("このうち 1 人は、いま使えるリンクを持っています。")
    assert all([await link_works(app, path) for path in before.values()])  # confirming changed nothing

    printed = await admin_client.post(action)
    assert printed.status_code == 200 and printed.headers["cache-control"] == "no-store"
    slips = soup(printed).select(".slip")
    assert [slip.select_one(".slip-meta strong").get_text() for slip in slips] == ["S002"]
    url = slips[0].select_one(".slip-url").get_text()
    assert url.startswith(f"{test_settings.base_url}/password/")
    qr = slips[0].select_one(".slip-qr[role=img]")
    assert qr.find("svg") == BeautifulSoup(str(qr_svg(url)), "html.parser").find("svg")

    assert await link_works(app, before["S001"]) and await link_works(app, before["S003"])
    assert not await link_works(app, before["S002"])  # the chosen person's old link, as the page said
    async with browser(app) as phone:
        response = await phone.post(link_path(url), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert response.status_code == 303
    await db.commit()
    audit = list(await db.scalars(select(AuditEvent.summary).where(AuditEvent.action == "user.password_slips")))
    assert audit == ["パスワード設定票を 1 枚作成(以前のリンクを無効にした人: 1 人)"]


async def test_reloading_the_printed_slips_cannot_void_them(
    app, admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    person = await staff(db, "S001")
    _page, action = await confirm(admin_client, person)
    url = soup(await admin_client.post(action)).select_one(".slip-url").get_text()

    again = await admin_client.post(action)  # the browser's "resubmit the form?" after printing
    assert again.status_code == 409 and message(again).startswith("この設定票はすでに作成済みです。")
    assert await link_works(app, link_path(url))
    await db.commit()
    assert len(list(await db.scalars(select(PasswordSetToken).where(PasswordSetToken.user_id == person.id)))) == 1


async def test_a_link_issued_after_confirming_stops_the_print_run(
    app, admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    """The confirmation said nobody's link would be replaced; if someone got a link since, printing would
    replace a link the admin was never told about."""
    first, second = await staff(db, "S001"), await staff(db, "S002")
    _page, action = await confirm(admin_client, first, second)
    issued_meanwhile = await links_of(admin_client, second)

    refused = await admin_client.post(action)
    assert refused.status_code == 409
    assert message(refused) == (
        "確認したあとに、次の人へ別のリンクが発行されました: 店舗 S002。もう一度、印刷する人を選んで確認してください。"
    )
    assert await link_works(app, issued_meanwhile["S002"])
    await db.commit()
    assert list(await db.scalars(select(PasswordSetToken.user_id))) == [second.id]
    assert (await db.scalars(select(SlipBatch.printed_at))).one() is None


async def test_a_second_print_run_cannot_void_the_slips_of_the_first(
    app, admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    """Two confirmations made for the same person, both saying the link valid now will be replaced: once the first
    is printed, that link is not the one the second confirmation named, so the second is refused."""
    person = await staff(db, "S001")
    await links_of(admin_client, person)
    _first, first_action = await confirm(admin_client, person)
    _second, second_action = await confirm(admin_client, person)
    printed = soup(await admin_client.post(first_action)).select_one(".slip-url").get_text()

    refused = await admin_client.post(second_action)
    assert refused.status_code == 409
    assert message(refused).startswith("確認したあとに、次の人へ別のリンクが発行されました: 店舗 S001。")
    assert await link_works(app, link_path(printed))


async def test_someone_deactivated_after_confirming_stops_the_print_run(
    app, admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    first, second = await staff(db, "S001"), await staff(db, "S002")
    _page, action = await confirm(admin_client, first, second)
    assert (await admin_client.post(f"/admin/users/{second.id}/deactivate")).status_code == 303

    refused = await admin_client.post(action)
    assert refused.status_code == 409 and message(refused).startswith("確認したあとに無効になった人がいます。")
    await db.commit()
    assert list(await db.scalars(select(PasswordSetToken))) == []


async def test_ticking_everyone_ticks_no_more_than_one_print_run(
    admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    now = utcnow()
    await db.execute(
        insert(User),
        [
            {
                "employee_number": f"T{n:05d}",
                "display_name": f"大勢 {n}",
                "role": "learner",
                "is_active": True,
                "created_at": now,
            }
            for n in range(MAX_PER_BATCH + 5)
        ],
    )
    await db.commit()
    page = soup(await admin_client.get("/admin/users/slips/choose", params={"everyone": "1"}))
    assert len(page.select("input[name=user_ids]")) == MAX_PER_BATCH + 5
    assert len(page.select("input[name=user_ids][checked]")) == MAX_PER_BATCH
    assert "表示中の先頭 1,000 人にチェックを付けました" in page.get_text()


async def test_an_old_or_foreign_confirmation_prints_nothing(
    app, admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    person = await staff(db, "S001")
    _page, action = await confirm(admin_client, person)
    await db.execute(update(SlipBatch).values(created_at=utcnow() - timedelta(hours=2)))
    await db.commit()
    stale = await admin_client.post(action)
    assert stale.status_code == 409 and message(stale).startswith("確認してから1時間以上たちました。")

    other_admin = await auth_service.create_user(
        db, email="admin2@example.com", password=PASSWORD, display_name="別の管理者", role=Role.ADMIN
    )
    await db.commit()
    async with browser(app) as other:
        await other.post("/login", data={"email": other_admin.email, "password": PASSWORD})
        foreign = await other.post(action)
    assert foreign.status_code == 404
    await db.commit()
    assert list(await db.scalars(select(PasswordSetToken))) == []


async def test_choosing_nobody_or_too_many_is_refused_with_the_reason(
    admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    inactive = await staff(db, "S004")
    inactive.is_active = False
    await db.commit()
    nobody = await admin_client.post("/admin/users/slips/confirm", data={"user_ids": [str(inactive.id)]})
    assert nobody.status_code == 422 and message(nobody).startswith("印刷する社員を選んでください")

    too_many = [str(n) for n in range(1, MAX_PER_BATCH + 2)]
    refused = await admin_client.post("/admin/users/slips/confirm", data={"user_ids": too_many})
    assert refused.status_code == 422
    assert message(refused) == (
        "一度に印刷できるのは 1,000 人までです(1,001 人を選んでいます)。部署で絞り込んでから選んでください。"
    )
    await db.commit()
    assert list(await db.scalars(select(SlipBatch))) == []


async def test_the_persons_page_says_a_new_link_replaces_the_current_one(
    admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    person = await staff(db, "S001")
    fresh_page = soup(await admin_client.get(f"/admin/users/{person.id}"))
    assert fresh_page.select_one(".alert-warning") is None
    await links_of(admin_client, person)
    page = soup(await admin_client.get(f"/admin/users/{person.id}"))
    assert page.select_one(".alert-warning").get_text(strip=True).startswith("使えるリンクが発行済みです(")
