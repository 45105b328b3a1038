"""Every route under /admin, read from the application's route table so that a new one is covered at once:
learners and managers are refused (403), anonymous visitors are sent to sign in, an admin gets through."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from app.auth.models import User
from app.core.config import Environment, Settings
from app.main import create_app
from tests.admin.conftest import SignIn
from tests.admin.helpers import parse, text_of

PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def admin_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route whose path starts with /admin, HEAD aside (it follows GET)."""
    found = {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if getattr(route, "path", "").startswith("/admin")
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }
    return sorted(found, key=lambda item: (item[1], item[0]))


# Collected before any fixture exists; the first test checks it is the same table the tests' app has.
ROUTES = admin_routes(
    create_app(Settings(env=Environment.TEST, database_url="sqlite+aiosqlite:///:memory:", secret_key="t" * 48))
)


def url_of(path: str) -> str:
    return PATH_PARAMETER.sub("1", path)


async def send(client: httpx.AsyncClient, method: str, path: str) -> httpx.Response:
    if method == "GET":
        return await client.get(url_of(path))
    # an empty form, as a browser would send it
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return await client.request(method, url_of(path), content=b"", headers=headers)


async def test_the_route_table_is_the_apps_and_holds_the_admin_routes(app: FastAPI) -> None:
    assert admin_routes(app) == ROUTES
    for expected in [
        ("GET", "/admin/content"),
        ("POST", "/admin/content/upload"),
        ("POST", "/admin/content/versions/{version_id}/publish"),
        ("POST", "/admin/content/versions/{version_id}/lessons/{slug}/preview"),
        ("GET", "/admin/users"),
        ("GET", "/admin/audit"),
    ]:
        assert expected in ROUTES


@pytest.mark.parametrize("who", ["learner", "manager"])
@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{method} {path}" for method, path in ROUTES])
async def test_learners_and_managers_are_refused(
    signed_in: SignIn, learner: User, manager: User, who: str, method: str, path: str
) -> None:
    client = await signed_in(learner if who == "learner" else manager)

    response = await send(client, method, path)

    assert response.status_code == 403, response.text[:300]


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{method} {path}" for method, path in ROUTES])
async def test_anonymous_visitors_are_sent_to_sign_in(
    client: httpx.AsyncClient, learner: User, method: str, path: str
) -> None:
    response = await send(client, method, path)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + quote(url_of(path))


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{method} {path}" for method, path in ROUTES])
async def test_an_admin_gets_past_the_check(
    signed_in: SignIn, learner: User, admin: User, method: str, path: str
) -> None:
    # The same requests reach the routes themselves for an admin, so the 403s above come from the role check.
    # The learner is created first: user 1 is then not the admin, who may not deactivate themselves.
    assert learner.id == 1 and admin.id != 1
    client = await signed_in(admin)

    response = await send(client, method, path)

    assert response.status_code not in (401, 403, 500), response.text[:300]
    assert not response.headers.get("location", "").startswith("/login")


async def test_an_admin_action_sent_from_another_site_is_refused(signed_in: SignIn, admin: User, draft_id: int) -> None:
    client = await signed_in(admin)

    for headers in ({"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"}):
        response = await client.post(f"/admin/content/versions/{draft_id}/publish", headers=headers)
        assert response.status_code == 403, headers

    assert (await client.get(f"/admin/content/versions/{draft_id}")).status_code == 200
    page = parse(await client.get(f"/admin/content/versions/{draft_id}"))
    assert text_of(page.select_one("h1 .badge")) == "下書き"
