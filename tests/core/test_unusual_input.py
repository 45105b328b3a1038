"""Filter values a browser or a script really sends (a form's 「すべて」, a mistyped or out-of-range number, the
first or last day of the calendar) are answered, never a 500. Found by tests/e2e/test_xss.py and schemathesis."""

import httpx
import pytest

from tests.conftest import sign_in
from tests.org_fixture import Org


@pytest.mark.parametrize(
    "query",
    ["course=&department=&status=&q=", "status=", "department=", "page=2"],
)
async def test_dashboard_filter_forms_left_at_everything_show_the_dashboard(
    client: httpx.AsyncClient, org: Org, query: str
) -> None:
    await sign_in(client, "manager.a@example.com")
    assert (await client.get(f"/dashboard?{query}")).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/admin/audit?actor=%C2%B2",
        "/admin/audit?actor=99999999999999999999",
        "/admin/audit?since=0001-01-01",
        "/admin/audit?until=9999-12-31",
        "/admin/audit?page=99999999999999999999",
        "/admin/users?page=99999999999999999999",
    ],
)
async def test_admin_filters_ignore_what_cannot_be_an_id_or_a_day(
    client: httpx.AsyncClient, org: Org, path: str
) -> None:
    await sign_in(client, "admin@example.com")
    assert (await client.get(path)).status_code == 200


async def test_a_user_form_department_that_is_not_a_number_is_no_department(
    client: httpx.AsyncClient, org: Org
) -> None:
    await sign_in(client, "admin@example.com")
    form = {"name": "上付き 二郎", "email": "superscript@example.com", "role": "learner", "department_id": "²"}
    assert (await client.post("/admin/users/new", data=form)).status_code == 303


@pytest.mark.parametrize("query", ["department=99999999999999999999", "department=2147483648", "q=a%00b"])
async def test_dashboard_refuses_values_the_database_cannot_compare(
    client: httpx.AsyncClient, org: Org, query: str
) -> None:
    await sign_in(client, "admin@example.com")
    assert (await client.get(f"/dashboard?{query}")).status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        ("GET", "/admin/users/99999999999999999999", None),
        ("GET", "/dashboard/employees/99999999999999999999", None),
        ("GET", "/admin/audit?q=a%00b", None),
        ("GET", "/admin/users?q=a%00b", None),
        ("POST", "/login", {"email": "a\x00b@example.com", "password": "x"}),
    ],
)
async def test_values_the_database_cannot_store_are_a_clear_error_not_a_500(
    client: httpx.AsyncClient, org: Org, method: str, path: str, form: dict | None
) -> None:
    """Ids beyond the integer column and NUL characters: PostgreSQL refuses them, SQLite's driver overflows."""
    if not path.startswith("/login"):
        await sign_in(client, "admin@example.com")
    response = await client.request(method, path, data=form)
    assert response.status_code in (200, 303, 401, 404, 422), response.text[:300]
    if response.status_code == 422:
        assert "入力内容に誤りがあります。" in response.text
