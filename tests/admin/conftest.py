"""Admins, managers and clients signed in as any of them, side by side on the same app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.content.models import Course
from tests.admin.helpers import revised, upload_draft
from tests.conftest import make_user, sign_in

SignIn = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def admin(db: AsyncSession) -> User:
    return await make_user(db, "admin@example.com", Role.ADMIN, "管理 花子")


@pytest.fixture
async def manager(db: AsyncSession) -> User:
    return await make_user(db, "manager@example.com", Role.MANAGER, "営業 部長")


@pytest.fixture
async def signed_in(app) -> AsyncIterator[SignIn]:
    """A new client signed in as the given user; each has its own cookies, so several can act in one test."""
    async with contextlib.AsyncExitStack() as stack:

        async def sign(user: User, *, raise_app_exceptions: bool = True) -> httpx.AsyncClient:
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            await stack.enter_async_context(client)
            response = await sign_in(client, user.email)
            assert response.status_code == 303, response.text
            return client

        yield sign


@pytest.fixture
async def admin_client(signed_in: SignIn, admin: User) -> httpx.AsyncClient:
    return await signed_in(admin)


@pytest.fixture
async def draft_id(admin_client: httpx.AsyncClient, mini_course: Course) -> int:
    """The id of a draft of the mini course with the responses lesson revised, uploaded by the admin."""
    return await upload_draft(admin_client, revised())
