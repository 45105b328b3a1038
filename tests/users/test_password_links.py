"""Signing in with a 社員番号, one-time password links (on screen, by mail, on printed slips), and their limits."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.auth.deps import SESSION_COOKIE
from app.auth.models import User, UserSession
from app.auth.routes import FAILED_SIGN_IN
from app.core.db import utcnow
from app.core.errors import NotFound
from app.mail.models import OutboxMessage
from app.users import links as users_links
from app.users.models import PasswordSetToken
from tests.conftest import PASSWORD, sign_in
from tests.org_fixture import Org
from tests.users.conftest import browser, fresh, link_path, signed_in, soup

NEW_PASSWORD = "海辺の図書館で待ち合わせ"


async def number_only(db: AsyncSession, number: str = "S1234", *, password: str | None = PASSWORD, **kw) -> User:
    """Someone with a 社員番号 and no e-mail address, as front-line staff usually are."""
    user = await auth_service.create_user(
        db, email=None, password=password, display_name="店舗 花子", employee_number=number, **kw
    )
    await db.commit()
    return user


async def issue(admin_client: httpx.AsyncClient, user_id: int) -> tuple[str, BeautifulSoup]:
    """Issue a link as the admin: (/password/<token>, the page that showed it)."""
    response = await admin_client.post(f"/admin/users/{user_id}/password-link")
    assert response.status_code == 200, response.text
    page = soup(response)
    return link_path(page.select_one(".link-card input.copyable")["value"]), page


async def choose(client: httpx.AsyncClient, path: str, password: str, confirm: str | None = None) -> httpx.Response:
    return await client.post(path, data={"password": password, "confirm": password if confirm is None else confirm})


def message(response: httpx.Response) -> str:
    return soup(response).select_one("main [role=alert]").get_text(strip=True)


def refused(response: httpx.Response) -> bool:
    return response.status_code == 404 and message(response).startswith("このリンクは使えません")


# --- signing in with a 社員番号 ---------------------------------------------------------------------------------


async def test_signing_in_with_an_employee_number(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await number_only(db)
    await number_only(db, "S9999", password=None)
    for login in ("S1234", " Ｓ１２３４ "):  # full-width, as typed with a Japanese IME
        response = await sign_in(client, login)
        assert response.status_code == 303 and response.headers["location"] == "/my", login
        assert (await client.get("/my")).status_code == 200
        await client.post("/logout")
    failures = [
        await sign_in(client, "S1234", "not the password"),
        await sign_in(client, "S0000"),  # nobody has it
        await sign_in(client, "S9999"),  # has no password yet
        await sign_in(client, "S9999", ""),
    ]
    for response in failures:
        assert response.status_code == 401
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
        assert message(response) == FAILED_SIGN_IN
        assert soup(response).select_one("input#email")["name"] == "email"


# --- links issued by the admin ---------------------------------------------------------------------------------


async def test_a_link_is_shown_once_and_mailed_when_there_is_an_address(
    admin_client: httpx.AsyncClient, db: AsyncSession, org: Org, test_settings
) -> None:
    e1 = org.users["e1"]
    path, page = await issue(admin_client, e1.id)
    assert path.startswith("/password/")
    card = page.select_one(".link-card").get_text()
    assert "e1@example.com にもメールで送りました" in card and "1回だけ" in card
    await db.commit()
    mail = (await db.scalars(select(OutboxMessage))).one()
    assert (mail.to_address, mail.to_user_id) == ("e1@example.com", e1.id)
    assert mail.subject == "【カスハラ対策研修】パスワードの設定"
    assert f"{test_settings.base_url}{path}" in mail.body
    # Only the hash is kept; the page that showed the link may not be cached, and the link is not shown again.
    token = path.rsplit("/", 1)[1]
    stored = (await db.scalars(select(PasswordSetToken))).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in repr(vars(stored))
    again = soup(await admin_client.get(f"/admin/users/{e1.id}"))
    assert again.select_one(".link-card") is None and token not in again.decode()


async def test_a_link_for_someone_without_email_is_only_shown(
    admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    person = await number_only(db, password=None)
    response = await admin_client.post(f"/admin/users/{person.id}/password-link")
    assert response.headers["cache-control"] == "no-store"
    card = soup(response).select_one(".link-card").get_text()
    assert "メールアドレスがないため送信していません" in card
    assert await db.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_setting_a_password_through_a_link(
    app, admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    person = await number_only(db, password=None, department_id=org.departments["店舗部"].id)
    path, _page = await issue(admin_client, person.id)
    async with browser(app) as phone:
        form = await phone.get(path)
        assert form.status_code == 200
        assert form.headers["cache-control"] == "no-store" and form.headers["referrer-policy"] == "no-referrer"
        page = soup(form)
        assert "店舗 花子 さん" in page.select_one("main").get_text()
        assert page.select_one("input[name=username]")["value"] == "S1234"

        for password, confirm, expected in [
            (NEW_PASSWORD, NEW_PASSWORD + "x", "確認のために入力したパスワードが一致しません。"),
            ("short1", None, "パスワードは 8 文字以上にしてください。"),
            ("password123", None, "よく使われる、または推測されやすいパスワードです。別のものにしてください。"),
            ("aaaaaaaaaaaa", None, "よく使われる、または推測されやすいパスワードです。別のものにしてください。"),
        ]:
            response = await choose(phone, path, password, confirm)
            assert response.status_code == 422, password
            assert soup(response).select_one("#password-error").get_text() == expected
        assert (await fresh(db, person)).password_hash is None  # none of those used the link up

        response = await choose(phone, path, NEW_PASSWORD)
        assert response.status_code == 303 and response.headers["location"] == "/my?welcome=1"
        assert SESSION_COOKIE in response.headers["set-cookie"]
        assert (await phone.get("/my")).status_code == 200

        assert refused(await choose(phone, path, "もう一度別の合言葉を"))
        assert refused(await phone.get(path))
    async with browser(app) as desk:
        assert (await sign_in(desk, "Ｓ１２３４", NEW_PASSWORD)).status_code == 303
    assert (await fresh(db, person)).password_hash is not None


async def test_setting_a_password_signs_out_everywhere_else(
    app, admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    path, _page = await issue(admin_client, org.users["e1"].id)
    async with browser(app) as old, browser(app) as new:
        await signed_in(old, "e1@example.com")
        assert (await choose(new, path, NEW_PASSWORD)).status_code == 303
        assert (await old.get("/my")).status_code == 303
        assert (await sign_in(old, "e1@example.com", PASSWORD)).status_code == 401
        assert (await sign_in(old, "e1@example.com", NEW_PASSWORD)).status_code == 303
    sessions = select(func.count()).select_from(UserSession).where(UserSession.user_id == org.users["e1"].id)
    assert await db.scalar(sessions) == 2


async def test_a_new_link_replaces_the_old_one(app, admin_client: httpx.AsyncClient, org: Org) -> None:
    first, _ = await issue(admin_client, org.users["e1"].id)
    second, _ = await issue(admin_client, org.users["e1"].id)
    async with browser(app) as phone:
        assert refused(await phone.get(first))
        assert refused(await choose(phone, first, NEW_PASSWORD))
        assert (await phone.get(second)).status_code == 200


async def test_an_expired_link_is_refused(app, admin_client: httpx.AsyncClient, db: AsyncSession, org: Org) -> None:
    path, _ = await issue(admin_client, org.users["e1"].id)
    await db.execute(update(PasswordSetToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    await db.commit()
    async with browser(app) as phone:
        assert refused(await phone.get(path))
        assert refused(await choose(phone, path, NEW_PASSWORD))
        assert (await sign_in(phone, "e1@example.com", PASSWORD)).status_code == 303  # password unchanged


async def test_a_deactivated_persons_link_is_refused(
    app, admin_client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    e1, e2 = org.users["e1"], org.users["e2"]
    # Through the admin page: deactivating ends the person's links for good, even after reactivation.
    path, _ = await issue(admin_client, e1.id)
    assert (await admin_client.post(f"/admin/users/{e1.id}/deactivate")).status_code == 303
    refusal = await admin_client.post(f"/admin/users/{e1.id}/password-link")
    assert refusal.status_code == 409
    assert message(refusal) == "無効なユーザーにはリンクを発行できません。先に有効にしてください。"
    assert (await admin_client.post(f"/admin/users/{e1.id}/reactivate")).status_code == 303
    # And a link is checked against the account itself, whatever made it inactive.
    other_path, _ = await issue(admin_client, e2.id)
    await db.execute(update(User).where(User.id == e2.id).values(is_active=False))
    await db.commit()
    async with browser(app) as phone:
        for link in (path, other_path):
            assert refused(await phone.get(link))
            assert refused(await choose(phone, link, NEW_PASSWORD))
    assert (await fresh(db, e1)).is_active


async def test_two_submissions_of_one_link_cannot_both_succeed(
    app, db: AsyncSession, org: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    e1 = org.users["e1"]
    link = await users_links.issue_password_link(db, actor=None, user=e1, settings=app.state.settings, mail=False)
    await db.commit()
    token = link.url.rsplit("/", 1)[1]
    looked_up = users_links.user_for_link
    both_checked = asyncio.Barrier(2)

    async def check_then_wait(session: AsyncSession, *, token: str) -> User | None:
        user = await looked_up(session, token=token)
        await both_checked.wait()  # each submission has seen the link valid before either claims it
        return user

    monkeypatch.setattr(users_links, "user_for_link", check_then_wait)

    async def submit(password: str) -> str | Exception:
        async with app.state.sessionmaker() as session:  # two workers: two sessions, two connections
            try:
                await users_links.redeem_link(session, token=token, password=password)
                await session.commit()
            except Exception as error:
                await session.rollback()
                return error
            return password

    results = await asyncio.wait_for(asyncio.gather(submit("一つ目の長い合言葉"), submit("二つ目の長い合言葉")), 60)
    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if not isinstance(r, str)]
    assert len(winners) == 1 and len(losers) == 1
    assert isinstance(losers[0], NotFound), repr(losers[0])
    user = await fresh(db, e1)
    assert auth_service.password_hash.verify(winners[0], user.password_hash)
    used = (await db.scalars(select(PasswordSetToken).execution_options(populate_existing=True))).one()
    assert used.used_at is not None
