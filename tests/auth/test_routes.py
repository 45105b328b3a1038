import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import SESSION_COOKIE
from app.auth.models import User, UserSession
from tests.conftest import PASSWORD, make_user, sign_in


async def test_sign_in_sets_a_protected_cookie_and_opens_my_training(client: httpx.AsyncClient, learner: User) -> None:
    response = await sign_in(client, learner.email)
    assert response.status_code == 303 and response.headers["location"] == "/my"
    cookie = response.headers["set-cookie"].lower()
    assert f"{SESSION_COOKIE}=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http in tests; behind https the flag is set
    page = await client.get("/my")
    assert page.status_code == 200
    assert BeautifulSoup(page.text, "html.parser").h1.get_text() == "マイ研修"


async def test_secure_flag_when_served_over_https(app, learner: User) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://lms.example") as https_client:
        response = await sign_in(https_client, learner.email)
    assert "secure" in response.headers["set-cookie"].lower()


async def test_failed_sign_in_says_the_same_thing_whatever_was_wrong(client: httpx.AsyncClient, learner: User) -> None:
    wrong_password = await sign_in(client, learner.email, "not-the-password")
    unknown_user = await sign_in(client, "nobody@example.com", PASSWORD)
    messages = []
    for response in (wrong_password, unknown_user):
        assert response.status_code == 401
        assert SESSION_COOKIE not in response.headers.get("set-cookie", "")
        messages.append(BeautifulSoup(response.text, "html.parser").select_one("[role=alert]").get_text())
    assert messages == ["メールアドレス(社員番号)またはパスワードが正しくありません。"] * 2


async def test_pages_need_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/courses/mini-course")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/courses/mini-course"
    htmx = await client.post("/courses/x/lessons/y/read", headers={"HX-Request": "true"})
    assert htmx.headers["HX-Redirect"].startswith("/login")


async def test_sign_out_ends_the_session_at_once(client: httpx.AsyncClient, learner: User) -> None:
    await sign_in(client, learner.email)
    stolen = client.cookies.get(SESSION_COOKIE)
    await client.post("/logout")
    client.cookies.set(SESSION_COOKIE, stolen)  # replaying the old cookie must not work
    response = await client.get("/my")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_deactivation_takes_effect_on_the_next_request(
    client: httpx.AsyncClient, learner: User, db: AsyncSession
) -> None:
    await sign_in(client, learner.email)
    assert (await client.get("/my")).status_code == 200
    await db.execute(update(User).where(User.id == learner.id).values(is_active=False))
    await db.commit()
    assert (await client.get("/my")).status_code == 303
    assert (await sign_in(client, learner.email)).status_code == 401


async def test_every_sign_in_gets_a_fresh_session(client: httpx.AsyncClient, learner: User, db: AsyncSession) -> None:
    await sign_in(client, learner.email)
    first = client.cookies.get(SESSION_COOKIE)
    await sign_in(client, learner.email)
    second = client.cookies.get(SESSION_COOKIE)
    assert first != second
    rows = (await db.scalars(select(UserSession).where(UserSession.user_id == learner.id))).all()
    assert len(rows) == 1  # the session the browser had before signing in again is gone


async def test_tampered_cookie_is_ignored(client: httpx.AsyncClient, learner: User) -> None:
    await sign_in(client, learner.email)
    client.cookies.set(SESSION_COOKIE, client.cookies.get(SESSION_COOKIE)[:-2] + "xx")
    assert (await client.get("/my")).status_code == 303


async def test_next_parameter_cannot_send_the_user_to_another_site(client: httpx.AsyncClient, learner: User) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = await client.post("/login", data={"email": learner.email, "password": PASSWORD, "next": target})
        assert response.headers["location"] == "/my"


async def test_email_is_matched_case_insensitively(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await make_user(db, "Mixed.Case@Example.com")
    assert (await sign_in(client, "mixed.case@example.COM")).status_code == 303


async def _age_session(db: AsyncSession, **ages: object) -> None:
    await db.execute(update(UserSession).values(**ages))
    await db.commit()


async def test_a_session_idle_too_long_is_ended_server_side(
    client: httpx.AsyncClient, learner: User, db: AsyncSession
) -> None:
    from datetime import timedelta

    from app.core.db import utcnow

    await sign_in(client, learner.email)
    await _age_session(db, last_seen_at=utcnow() - timedelta(hours=13))  # LMS_SESSION_HOURS is 12
    response = await client.get("/my")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert await db.scalar(select(UserSession.token_hash)) is None  # the row is gone, not just ignored


async def test_an_active_session_still_ends_after_the_absolute_limit(
    client: httpx.AsyncClient, learner: User, db: AsyncSession
) -> None:
    from datetime import timedelta

    from app.core.db import utcnow

    await sign_in(client, learner.email)
    # active a minute ago, but signed in more than a week ago (LMS_SESSION_ABSOLUTE_HOURS is 168)
    await _age_session(db, created_at=utcnow() - timedelta(hours=169), last_seen_at=utcnow() - timedelta(minutes=1))
    response = await client.get("/my")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    await sign_in(client, learner.email)
    await _age_session(db, created_at=utcnow() - timedelta(hours=167))
    assert (await client.get("/my")).status_code == 200
