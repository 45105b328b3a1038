"""The access-control matrix, read from the application's route table: every route has an expected rule here,
and every role gets the outcome that rule promises. A new route without an entry fails the suite.

Scope *within* a role (a manager's departments only) is tested where the data lives: tests/dashboard and
tests/assignments (ids outside the scope are 404) and tests/admin (every admin route, every role).
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.auth.models import Role
from app.core.config import Environment, Settings
from app.main import create_app
from tests.conftest import make_user, sign_in

PUBLIC, SIGNED_IN, MANAGER, ADMIN, API = "public", "signed in", "manager", "admin", "api"
RULES = {
    ("GET", "/"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/api/openapi.json"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/password/{token}"): PUBLIC,
    ("POST", "/password/{token}"): PUBLIC,
    ("GET", "/my"): SIGNED_IN,
    ("GET", "/assets/{version_id}/{path:path}"): SIGNED_IN,
    ("GET", "/account/tokens"): MANAGER,
    ("POST", "/account/tokens"): MANAGER,
    ("POST", "/account/tokens/{token_id}/revoke"): MANAGER,
    ("GET", "/courses/{course_slug}"): SIGNED_IN,
    ("GET", "/courses/{course_slug}/final-test"): SIGNED_IN,
    ("GET", "/courses/{course_slug}/lessons/{lesson_slug}"): SIGNED_IN,
    ("POST", "/courses/{course_slug}/lessons/{lesson_slug}/heartbeat"): SIGNED_IN,
    ("POST", "/courses/{course_slug}/lessons/{lesson_slug}/read"): SIGNED_IN,
    ("GET", "/courses/{course_slug}/lessons/{lesson_slug}/test"): SIGNED_IN,
    ("POST", "/quizzes/{quiz_id}/attempts"): SIGNED_IN,
    ("GET", "/attempts/{attempt_id}"): SIGNED_IN,
    ("POST", "/attempts/{attempt_id}/answers/{question_id}"): SIGNED_IN,
    ("POST", "/attempts/{attempt_id}/submit"): SIGNED_IN,
    ("GET", "/dashboard"): MANAGER,
    ("GET", "/dashboard/attempts/{attempt_id}"): MANAGER,
    ("GET", "/dashboard/employees/{user_id}"): MANAGER,
    ("GET", "/dashboard/export.csv"): MANAGER,
    ("POST", "/dashboard/remind"): MANAGER,
    ("POST", "/dashboard/remind/confirm"): MANAGER,
    ("GET", "/jobs/{job_id}"): SIGNED_IN,  # the starter's (or an admin's) own job: 404 for anyone else
    ("GET", "/jobs/{job_id}/file"): SIGNED_IN,
    ("GET", "/manage/assignments"): MANAGER,
    ("POST", "/manage/assignments"): MANAGER,
    ("POST", "/manage/assignments/{assignment_id}/stop-recurrence"): MANAGER,
    ("GET", "/verify"): PUBLIC,
    ("GET", "/my/certificates"): SIGNED_IN,
    ("GET", "/my/certificates/{certificate_id}/pdf"): SIGNED_IN,
    ("GET", "/manage/certificates"): MANAGER,
    ("POST", "/manage/certificates/bulk"): MANAGER,
    ("GET", "/documents/{kind_key}"): SIGNED_IN,
    ("POST", "/documents/{kind_key}/acknowledge"): SIGNED_IN,
    ("GET", "/documents/{kind_key}/pdf"): SIGNED_IN,
    ("GET", "/manage/evidence"): MANAGER,
    ("POST", "/manage/evidence/departments/{department_id}/pack"): MANAGER,
    **{("GET", f"/manage/evidence/employees/{{user_id}}.{ext}"): MANAGER for ext in ("csv", "pdf")},
    **{
        ("GET", f"/api/v1/{name}"): API
        for name in ("courses", "departments", "employees", "items", "misconceptions", "summary")
    },
}
PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def route_table(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        for method in getattr(route, "methods", None) or ()
        if method != "HEAD"
    }


def rule_of(method: str, path: str) -> str:
    return ADMIN if path.startswith("/admin") else RULES[(method, path)]


ROUTES = sorted(
    route_table(
        create_app(Settings(env=Environment.TEST, database_url="sqlite+aiosqlite:///:memory:", secret_key="t" * 48))
    ),
    key=lambda item: (item[1], item[0]),
)


def test_every_route_has_a_rule() -> None:
    missing = [route for route in ROUTES if not route[1].startswith("/admin") and route not in RULES]
    assert missing == [], f"add these routes to RULES with who may use them: {missing}"
    assert [route for route in RULES if route not in ROUTES] == []  # no rule for a route that is gone


def outcome(path: str, response: httpx.Response) -> str:
    """Sent to sign in ("login": a redirect or 401), refused ("forbidden": 403), or "allowed" (whatever the route
    itself answered: a page, 404 for an object that does not exist, 422 for an empty form)."""
    if path == "/login":
        return "allowed"  # its 401 is the answer to wrong credentials, not a refusal to serve
    if response.status_code == 401 or (
        response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    ):
        return "login"
    return "forbidden" if response.status_code == 403 else "allowed"


EXPECTED = {
    "anonymous": {PUBLIC: "allowed", SIGNED_IN: "login", MANAGER: "login", ADMIN: "login", API: "login"},
    "learner": {PUBLIC: "allowed", SIGNED_IN: "allowed", MANAGER: "forbidden", ADMIN: "forbidden", API: "forbidden"},
    "manager": {PUBLIC: "allowed", SIGNED_IN: "allowed", MANAGER: "allowed", ADMIN: "forbidden", API: "allowed"},
    "admin": {PUBLIC: "allowed", SIGNED_IN: "allowed", MANAGER: "allowed", ADMIN: "allowed", API: "allowed"},
}


@pytest.mark.parametrize("who", list(EXPECTED))
async def test_each_role_gets_what_each_routes_rule_promises(
    client: httpx.AsyncClient, db: AsyncSession, org: object, who: str
) -> None:
    token = None
    if who != "anonymous":
        email = {"learner": "e1@example.com", "manager": "manager.a@example.com", "admin": "admin@example.com"}[who]
        user = await auth_service.find_by_login(db, login=email)
        assert user is not None and (await sign_in(client, email)).status_code == 303
        token = await auth_service.create_api_token(db, user=user, name="matrix")
        await db.commit()
    wrong: list[str] = []
    for method, path in ROUTES:
        if method == "POST" and path == "/logout":
            continue  # it would end the session the rest of the loop needs; tests/auth covers it
        url = PATH_PARAMETER.sub("999999", path)  # no such object: the check is who may ask, not what exists
        headers = {"Authorization": f"Bearer {token}"} if token and path.startswith("/api/v1") else {}
        if method == "GET":
            response = await client.get(url, headers=headers)
        else:
            headers["content-type"] = "application/x-www-form-urlencoded"
            response = await client.request(method, url, content=b"", headers=headers)
        expected = EXPECTED[who][rule_of(method, path)]
        if outcome(path, response) != expected:
            wrong.append(f"{method} {path}: {response.status_code}, expected {expected}")
    assert wrong == []


async def test_a_learner_without_a_token_gets_401_from_the_api_even_when_signed_in(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    learner = await make_user(db, "solo@example.com", Role.LEARNER)
    await sign_in(client, learner.email)
    assert (await client.get("/api/v1/summary")).status_code == 401  # the API takes tokens, not cookies
