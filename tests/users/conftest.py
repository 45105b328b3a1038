"""Fixtures and helpers for the user-management tests: signed-in clients, CSV files, and database snapshots."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.core.db import utcnow
from app.counters.models import RosterStat
from app.dashboard import service as dashboard_service
from app.dashboard.roster import RosterFilter
from app.org.models import Department
from app.org.scope import EVERYTHING
from tests.conftest import make_user, run_jobs, sign_in
from tests.dashboard.oracle import headline_from_roster
from tests.org_fixture import Org

HEADER = ["社員番号", "氏名", "メールアドレス", "部署", "役割", "管理者", "管理部署"]
# Everything an import may write, and what it must leave alone when it fails.
IMPORT_TABLES = (
    "users",
    "departments",
    "managed_departments",
    "enrollments",
    "roster_stats",
    "user_sessions",
    "password_set_tokens",
    "audit_events",
)


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def csv_bytes(rows: list[list[str]], *, encoding: str = "utf-8", header: list[str] = HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def row(number: str, name: str, email: str = "", department: str = "", *rest: str) -> list[str]:
    """A data row in HEADER order; role, manager flag and managed departments follow in `rest`."""
    return [number, name, email, department, *rest, *[""] * (3 - len(rest))]


@asynccontextmanager
async def browser(app, *, raise_app_exceptions: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser with its own cookies, e.g. an employee signed in while the admin works."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        yield other


async def signed_in(client: httpx.AsyncClient, login: str, password: str | None = None) -> httpx.AsyncClient:
    response = await (sign_in(client, login) if password is None else sign_in(client, login, password))
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
async def admin_client(client: httpx.AsyncClient, org: Org) -> httpx.AsyncClient:
    return await signed_in(client, "admin@example.com")


@pytest.fixture
async def staff(db: AsyncSession) -> dict[str, User]:
    """Only an admin and one learner (社員番号 E001): for tests that need no course or departments."""
    admin = await make_user(db, "admin@example.com", Role.ADMIN, "管理者")
    learner = await make_user(db, "e1@example.com", name="社員1")
    learner.employee_number = "E001"
    await db.commit()
    return {"admin": admin, "e1": learner}


@pytest.fixture
async def numbered(db: AsyncSession, org: Org) -> Org:
    """The org with 社員番号 for the admin (A001) and e1–e5 (E001–E005); the two managers have none."""
    org.users["admin"].employee_number = "A001"
    for index in range(1, 6):
        org.users[f"e{index}"].employee_number = f"E00{index}"
    await db.commit()
    return org


async def upload(
    client: httpx.AsyncClient, data: bytes, *, deactivate_missing: bool = False, filename: str = "社員.csv"
) -> tuple[int, BeautifulSoup]:
    """Upload a CSV and follow the redirect to its dry run: (import id, the plan page)."""
    form = {"deactivate_missing": "true"} if deactivate_missing else {}
    response = await client.post("/admin/users/import", files={"file": (filename, data, "text/csv")}, data=form)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/admin/users/import/")
    page = await client.get(location)
    assert page.status_code == 200, page.text
    return int(location.rsplit("/", 1)[1]), soup(page)


def digest_of(page: BeautifulSoup) -> str:
    field = page.select_one("form[action$='/apply'] input[name=digest]")
    assert field is not None, "the plan page offers no apply button"
    return str(field["value"])


def figures(page: BeautifulSoup) -> dict[str, int]:
    """The dry run's summary counts, keyed by their label (人を作成, 人を更新, 人を無効化, 人は変更なし)."""
    return {li.contents[-1].strip(): int(li.strong.get_text()) for li in page.select(".summary-figures li")}


async def apply(client: httpx.AsyncClient, import_id: int, digest: str, *, run: bool = True) -> httpx.Response:
    """Confirm the preview; unless `run` is False, also run the job it enqueued, as a worker would."""
    response = await client.post(f"/admin/users/import/{import_id}/apply", data={"digest": digest})
    if run and response.status_code == 303:
        await run_jobs(client._transport.app)  # type: ignore[attr-defined] - the ASGI app behind the test client
    return response


async def import_csv(client: httpx.AsyncClient, data: bytes, *, deactivate_missing: bool = False) -> BeautifulSoup:
    """Upload, check the dry run offers to apply, apply it; the dry run page is returned."""
    import_id, page = await upload(client, data, deactivate_missing=deactivate_missing)
    response = await apply(client, import_id, digest_of(page))
    assert response.status_code == 303, response.text
    return page


async def table_rows(db: AsyncSession, tables: tuple[str, ...] = IMPORT_TABLES) -> dict[str, list[tuple]]:
    """Every row of the tables, in a stable order: two snapshots are equal when nothing was written."""
    await db.commit()  # end any transaction this session holds, so the reads below see what is committed now
    snapshot = {}
    for table in tables:
        rows = (await db.execute(text(f"SELECT * FROM {table}"))).all()
        snapshot[table] = sorted((tuple(r) for r in rows), key=repr)
    return snapshot


async def user_by_number(db: AsyncSession, number: str) -> User:
    user = await db.scalar(select(User).where(User.employee_number == number).execution_options(populate_existing=True))
    assert user is not None, number
    return user


async def fresh(db: AsyncSession, user: User) -> User:
    found = await db.scalar(select(User).where(User.id == user.id).execution_options(populate_existing=True))
    assert found is not None
    return found


async def department_path(db: AsyncSession, department_id: int | None) -> str | None:
    if department_id is None:
        return None
    names = {d.id: d.name for d in await db.scalars(select(Department))}
    department = await db.get(Department, department_id)
    assert department is not None
    return "/".join(names[int(i)] for i in department.path.strip("/").split("/"))


async def assigned_by_department(db: AsyncSession, course_id: int) -> dict[str, int]:
    """The roster counters' `assigned`, by department path (departments with nobody are left out)."""
    rows = await db.execute(
        select(RosterStat.department_id, RosterStat.assigned).where(RosterStat.course_id == course_id)
    )
    totals: dict[str, int] = {}
    for department_id, assigned in rows:
        path = await department_path(db, department_id)
        assert path is not None
        totals[path] = totals.get(path, 0) + assigned
    return {path: n for path, n in totals.items() if n}


async def headline(db: AsyncSession, course_id: int) -> dashboard_service.Headline:
    """The admin dashboard's headline, checked against the same figures counted from the roster itself."""
    await db.commit()
    now, whole = utcnow(), RosterFilter(course_id=course_id)
    figures = await dashboard_service.headline(db, scope=EVERYTHING, roster_filter=whole, now=now)
    assert figures == await headline_from_roster(db, scope=EVERYTHING, roster_filter=whole, now=now)
    return figures


def link_path(url: str) -> str:
    """/password/<token> from the absolute link the app shows or mails."""
    return urlsplit(url).path
