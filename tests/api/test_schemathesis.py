"""schemathesis against the JSON API: requests generated from the OpenAPI schema the app serves, sent with an
admin's token, a manager's and none, must never get a 500 and every answer must match that schema.

Hypothesis drives a synchronous test, while the app and its database engine are async: the app under test is built
here and served on an event loop of its own in a thread (an anyio portal), so its connections are opened, used and
closed on that one loop whatever the database (asyncpg refuses a connection moved between loops).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

import httpx
import pytest
import schemathesis
from anyio.from_thread import start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service as auth_service
from app.core.config import Settings
from app.main import create_app
from tests.org_fixture import Org

BASE_URL = "http://testserver"
MAX_EXAMPLES = 25  # per operation and identity: 6 operations x 3 identities x 25 stays within a few seconds
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
Send = Callable[..., httpx.Response]


@pytest.fixture
async def api_tokens(db: AsyncSession, org: Org) -> dict[str, str | None]:
    tokens: dict[str, str | None] = {
        "admin": await auth_service.create_api_token(db, user=org.users["admin"], name="schemathesis"),
        "manager": await auth_service.create_api_token(db, user=org.users["manager_a"], name="schemathesis"),
        "anonymous": None,
    }
    await db.commit()
    return tokens


@contextmanager
def served(test_settings: Settings) -> Iterator[Send]:
    """A fresh app on its own event loop; yields a blocking `send(method=…, url=…, …)`."""
    application = create_app(test_settings)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=application, raise_app_exceptions=False), base_url=BASE_URL
        )
        try:
            yield lambda **request: portal.call(partial(client.request, **request))
        finally:
            portal.call(client.aclose)
            portal.call(application.state.engine.dispose)


def _request(case: schemathesis.Case) -> dict[str, object]:
    """The generated request as httpx keywords (the API is GET-only: no body to carry)."""
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    # As `requests` does, a parameter generated as null is left out rather than sent empty.
    params = {key: value for key, value in (kwargs.get("params") or {}).items() if value is not None}
    return {"method": kwargs["method"], "url": kwargs["url"], "params": params, "headers": kwargs.get("headers")}


@pytest.mark.parametrize("identity", ["admin", "manager", "anonymous"])
def test_every_api_operation_answers_within_its_schema(
    identity: str, api_tokens: dict[str, str | None], test_settings: Settings
) -> None:
    token = api_tokens[identity]
    headers = {"Authorization": f"Bearer {token}"} if token else None
    with served(test_settings) as send:
        raw = send(method="GET", url="/api/openapi.json").json()
        schema = schemathesis.openapi.from_dict(raw).include(path_regex=r"^/api/v1/")
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) == 6, [operation.label for operation in operations]
        for operation in operations:
            # Not a vacuous run: with the defaults, each operation answers the owner of a valid token.
            plain = send(method="GET", url=operation.path, headers=headers)
            assert plain.status_code == (401 if token is None else 200), (operation.label, plain.text)
            # Valid and invalid parameters alike: a wrong one must be a documented 422, never a 500.
            cases = st.one_of(
                operation.as_strategy(GenerationMode.POSITIVE, headers=headers),
                operation.as_strategy(GenerationMode.NEGATIVE, headers=headers),
            )

            @settings(
                max_examples=MAX_EXAMPLES,
                deadline=None,
                database=None,
                print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            )
            @given(case=cases)
            def check(case: schemathesis.Case) -> None:
                request = _request(case)
                response = send(**request)
                case.validate_response(response, checks=CHECKS, headers=request["headers"])  # type: ignore[arg-type]
                if identity == "anonymous":
                    assert response.status_code in (401, 422), (response.status_code, response.text)

            check()
