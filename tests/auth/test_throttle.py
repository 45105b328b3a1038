"""Sign-in throttling: per account and per address, counted in the database so every worker sees the same
failures, and worded so that it does not tell which accounts exist."""

from datetime import timedelta

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.deps import SESSION_COOKIE
from app.auth.models import SignInFailure, User
from app.core.config import Settings
from app.core.db import utcnow
from app.main import create_app
from tests.conftest import PASSWORD, make_user, sign_in

LIMIT = 5  # LMS_SIGN_IN_MAX_FAILURES_PER_ACCOUNT's default


def alert(response: httpx.Response) -> str:
    return BeautifulSoup(response.text, "html.parser").select_one("[role=alert]").get_text()


async def fail(client: httpx.AsyncClient, login: str, times: int) -> None:
    for _ in range(times):
        assert (await sign_in(client, login, "wrong password")).status_code == 401


async def test_an_account_is_locked_after_repeated_failures_even_for_the_right_password(
    client: httpx.AsyncClient, learner: User, db: AsyncSession
) -> None:
    await fail(client, learner.email, LIMIT)
    locked = await sign_in(client, learner.email, PASSWORD)
    assert locked.status_code == 429 and SESSION_COOKIE not in locked.headers.get("set-cookie", "")
    assert alert(locked).startswith("サインインの失敗が続いたため、しばらく受け付けません。15分ほど")
    assert locked.headers["retry-after"] == "900"
    # a different account from the same address is not affected by this account's lock
    other = await make_user(db, "other@example.com")
    assert (await sign_in(client, other.email, PASSWORD)).status_code == 303


async def test_the_lock_reads_the_same_for_an_account_that_does_not_exist(
    client: httpx.AsyncClient, learner: User
) -> None:
    await fail(client, learner.email, LIMIT)
    await fail(client, "nobody@example.com", LIMIT)
    existing = await sign_in(client, learner.email, PASSWORD)
    missing = await sign_in(client, "nobody@example.com", PASSWORD)
    assert (existing.status_code, alert(existing)) == (missing.status_code, alert(missing))


async def test_the_lock_ends_when_the_window_has_passed(
    client: httpx.AsyncClient, learner: User, db: AsyncSession
) -> None:
    await fail(client, learner.email, LIMIT)
    assert (await sign_in(client, learner.email, PASSWORD)).status_code == 429
    await db.execute(update(SignInFailure).values(at=utcnow() - timedelta(minutes=16)))
    await db.commit()
    assert (await sign_in(client, learner.email, PASSWORD)).status_code == 303


async def test_a_success_forgets_the_accounts_earlier_failures(
    client: httpx.AsyncClient, learner: User, db: AsyncSession
) -> None:
    await fail(client, learner.email, LIMIT - 1)
    assert (await sign_in(client, learner.email, PASSWORD)).status_code == 303
    await fail(client, learner.email, LIMIT - 1)  # would lock now had the first four been kept
    assert (await sign_in(client, learner.email, PASSWORD)).status_code == 303
    # the failures by address stay: a shared address must not reopen guessing against other accounts
    by_address = select(func.count()).where(SignInFailure.kind == "address")
    assert await db.scalar(by_address) == 2 * (LIMIT - 1)


async def test_an_address_guessing_across_many_accounts_is_locked(app, db: AsyncSession, learner: User) -> None:
    limit = app.state.settings.sign_in_max_failures_per_address
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        for index in range(limit):
            assert (await sign_in(client, f"guess{index}@example.com", "wrong")).status_code == 401
        assert (await sign_in(client, learner.email, PASSWORD)).status_code == 429
    # another client address still gets in
    other = httpx.ASGITransport(app=app, client=("203.0.113.9", 50000))
    async with httpx.AsyncClient(transport=other, base_url="http://testserver") as elsewhere:
        assert (await sign_in(elsewhere, learner.email, PASSWORD)).status_code == 303


async def test_workers_share_the_count(test_settings: Settings, app, learner: User) -> None:
    """Two app instances (two workers) on one database: failures on one lock the account on the other."""
    second = create_app(test_settings)
    try:
        first_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        second_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://testserver")
        async with first_client, second_client:
            await fail(first_client, learner.email, LIMIT - 2)
            await fail(second_client, learner.email, 2)
            assert (await sign_in(first_client, learner.email, PASSWORD)).status_code == 429
            assert (await sign_in(second_client, learner.email, PASSWORD)).status_code == 429
    finally:
        await second.state.engine.dispose()


async def test_the_login_typed_is_stored_only_as_a_hash(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await fail(client, "Secret.Typo@Example.com", 1)
    keys = list(await db.scalars(select(SignInFailure.key)))
    assert len(keys) == 2 and all(len(key) == 64 and "example" not in key.lower() for key in keys)
