"""Correlation ids on every response and error page; structured events for sign-ins, denials and admin actions
that never contain passwords, session ids or tokens."""

import json

import httpx
from bs4 import BeautifulSoup
from sqlalchemy.ext.asyncio import AsyncSession
from structlog.testing import capture_logs

from app.auth.deps import SESSION_COOKIE
from app.auth.models import Role, User
from app.core.logs import request_id_from
from tests.conftest import PASSWORD, make_user, sign_in


async def test_error_pages_carry_the_requests_correlation_id(client: httpx.AsyncClient, learner: User) -> None:
    await sign_in(client, learner.email)
    page = await client.get("/courses/no-such-course")
    assert page.status_code == 404
    shown = BeautifulSoup(page.text, "html.parser").select_one(".request-id code").get_text()
    assert shown == page.headers["x-request-id"] and len(shown) == 32


async def test_api_errors_carry_it_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/courses", headers={"Authorization": "Bearer lms_not-a-token"})
    assert response.status_code == 401
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_a_load_balancers_request_id_is_kept_and_anything_else_replaced() -> None:
    assert request_id_from({"x-request-id": "lb-1234abcd"}) == "lb-1234abcd"
    for hostile in ("short", "x" * 65, 'id" injected="1', "line\nbreak-12345678"):
        replaced = request_id_from({"x-request-id": hostile})
        assert replaced != hostile and len(replaced) == 32


async def test_sign_ins_denials_and_admin_actions_are_logged_without_secrets(
    client: httpx.AsyncClient, learner: User, db: AsyncSession
) -> None:
    admin = await make_user(db, "root@example.com", Role.ADMIN, "管理者")
    with capture_logs() as events:
        await sign_in(client, learner.email, "typed-secret-password")
        signed_in = await sign_in(client, learner.email)
        denied = await client.get("/admin/users")
        await client.post("/logout")
        await sign_in(client, admin.email)
        created = await client.post("/admin/users/new", data={"name": "新人 太郎", "employee_number": "N0001"})
    assert denied.status_code == 403 and created.status_code == 303
    names = [event["event"] for event in events]
    assert names[:4] == ["sign_in_failed", "sign_in", "access_denied", "sign_in"]
    assert {"event": "admin_action", "action": "user.create"}.items() <= next(
        event for event in events if event["event"] == "admin_action"
    ).items()
    assert events[1]["user_id"] == learner.id and events[2]["path"] == "/admin/users"
    session_cookie = signed_in.cookies.get(SESSION_COOKIE) or signed_in.headers["set-cookie"].split("=", 1)[1]
    written = json.dumps(events, ensure_ascii=False, default=str)
    for secret in ("typed-secret-password", PASSWORD, session_cookie.split(";")[0], learner.email):
        assert secret not in written
