import httpx
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments.models import Assignment
from app.enrolments.models import Enrollment
from tests.conftest import sign_in
from tests.org_fixture import Org


async def test_manager_assigns_within_scope_and_learners_see_the_due_date(
    client: httpx.AsyncClient, db: AsyncSession, org: Org
) -> None:
    await sign_in(client, "manager.a@example.com")
    form = BeautifulSoup((await client.get("/manage/assignments")).text, "html.parser")
    options = [o.get_text().strip() for o in form.select("#a-department option")][1:]
    assert options == ["営業部", "第一課"]  # only their own subtree is offered
    created = await client.post(
        "/manage/assignments", data={"course": org.course.slug, "email": "e1@example.com", "due_date": "2031-03-31"}
    )
    assert created.status_code == 303
    due = await db.scalar(select(Enrollment.due_at).where(Enrollment.user_id == org.users["e1"].id))
    assert due is not None and due.year == 2031  # the personal deadline now applies to e1

    await sign_in(client, "e1@example.com")
    my = BeautifulSoup((await client.get("/my")).text, "html.parser")
    assert "2031年03月31日" in my.select_one(".course-card").get_text()


async def test_manager_cannot_assign_outside_scope(client: httpx.AsyncClient, db: AsyncSession, org: Org) -> None:
    await sign_in(client, "manager.a@example.com")
    before = len((await db.scalars(select(Assignment))).all())
    outside = await client.post(
        "/manage/assignments", data={"course": org.course.slug, "department_id": str(org.departments["店舗部"].id)}
    )
    assert outside.status_code == 404
    person = await client.post("/manage/assignments", data={"course": org.course.slug, "email": "e4@example.com"})
    assert person.status_code == 404
    neither = await client.post("/manage/assignments", data={"course": org.course.slug})
    assert neither.status_code == 422 and "部署を選ぶか" in neither.text
    assert len((await db.scalars(select(Assignment))).all()) == before
