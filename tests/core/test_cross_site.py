import httpx
import pytest

from app.auth.models import User
from app.core.middleware import is_cross_site
from tests.conftest import PASSWORD


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"sec-fetch-site": "cross-site"}, True),
        ({"sec-fetch-site": "same-site"}, True),
        ({"sec-fetch-site": "same-origin"}, False),
        ({"sec-fetch-site": "none"}, False),
        ({"origin": "https://evil.example"}, True),
        ({"origin": "null"}, True),
        ({"origin": "http://testserver"}, False),
        ({}, False),
    ],
)
def test_cross_site_decision(headers: dict[str, str], refused: bool) -> None:
    assert is_cross_site("POST", headers, "testserver") is refused
    assert is_cross_site("GET", headers, "testserver") is False


async def test_cross_site_form_post_is_refused(learner_client: httpx.AsyncClient) -> None:
    response = await learner_client.post(
        "/courses/mini-course/lessons/basics/read", headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert "他のサイトからの送信は受け付けません" in response.text
    # the same request from our own pages goes through
    same = await learner_client.post(
        "/courses/mini-course/lessons/basics/read", headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert same.status_code == 303


async def test_htmx_request_from_another_site_is_refused(learner_client: httpx.AsyncClient) -> None:
    response = await learner_client.post("/logout", headers={"HX-Request": "true", "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


async def test_login_csrf_is_refused(client: httpx.AsyncClient, learner: User) -> None:
    response = await client.post(
        "/login",
        data={"email": learner.email, "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403


async def test_security_headers_on_pages(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
