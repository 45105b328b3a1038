from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from tests.conftest import make_user, sign_in


@pytest.fixture
async def admin(db: AsyncSession) -> User:
    return await make_user(db, "admin@example.com", Role.ADMIN, "管理者")


@pytest.fixture
async def admin_client(client: httpx.AsyncClient, admin: User) -> httpx.AsyncClient:
    assert (await sign_in(client, "admin@example.com")).status_code == 303
    return client


async def fill_required_policy(client: httpx.AsyncClient) -> None:
    """Answer the three fields the defaults leave to the admin, leaving every pre-filled choice as it is."""
    page = await client.get("/admin/documents/policy/steps/stance")
    assert page.status_code == 200
    form = {name: value for name, value in _form_values(page.text).items()}
    form.update(company_name="株式会社テスト商事", issuer="代表取締役 山田花子", effective_date="2026年12月1日")
    response = await client.post("/admin/documents/policy/steps/stance", data={**form, "_go": "next"})
    assert response.status_code == 303, response.text


def _form_values(html: str) -> dict[str, object]:
    from bs4 import BeautifulSoup

    form = BeautifulSoup(html, "html.parser").select_one("form.wizard-form")
    values: dict[str, object] = {}
    for element in form.select("input[name], textarea[name]"):
        name = element["name"]
        if element.get("type") == "checkbox":
            if element.has_attr("checked"):
                values.setdefault(name, []).append(element["value"])  # type: ignore[union-attr]
        elif element.name == "textarea":
            values[name] = element.get_text()
        else:
            values[name] = element.get("value", "")
    return values


async def publish(client: httpx.AsyncClient, kind: str = "policy", **form: str) -> httpx.Response:
    return await client.post(f"/admin/documents/{kind}/publish", data={"change": "substantive", **form})
