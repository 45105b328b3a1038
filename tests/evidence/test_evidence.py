"""Evidence packs: every record of the people in scope, totals that match the database, CSV and PDF alike."""

from __future__ import annotations

import csv
import io

import httpx
from bs4 import BeautifulSoup
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.certificates.models import Certificate
from app.core.db import utcnow
from app.documents import acknowledgments
from app.documents import service as policies
from app.documents.models import Acknowledgment
from app.enrolments.models import Enrollment
from app.evidence import exports
from app.evidence import service as evidence
from app.org.models import Department
from app.progress.models import LessonReading
from app.quiz.models import Attempt
from tests.conftest import run_jobs, sign_in
from tests.org_fixture import Org


async def acknowledge_policy(db: AsyncSession, org: Org, keys: list[str]) -> None:
    """Publish a policy straight from the defaults (with the company filled in) and let `keys` acknowledge it."""
    kind = policies.kind_for("policy")
    document = await policies.get_document(db, kind=kind)
    required = {"company_name": "株式会社証跡", "issuer": "代表取締役 証跡太郎", "effective_date": "2026年12月1日"}
    await policies.save_step(db, document=document, actor=org.users["admin"], values=required)
    await policies.publish(
        db, kind=kind, document=document, actor=org.users["admin"], substantive=True, change_note="", department_id=None
    )
    for key in keys:
        await acknowledgments.acknowledge(db, kind=kind, user=org.users[key], version_number=1)
    await db.commit()


async def count(db: AsyncSession, model, user_ids: list[int], *extra) -> int:
    return await db.scalar(select(func.count()).select_from(model).where(model.user_id.in_(user_ids), *extra)) or 0


async def test_department_pack_totals_match_the_database(org: Org, db: AsyncSession) -> None:
    await acknowledge_policy(db, org, ["e2", "e3", "e4"])
    sales = org.departments["営業部"]
    pack = await evidence.for_department(db, department=sales, now=utcnow())
    in_subtree = list(
        await db.scalars(
            select(User.id)
            .join(Department, Department.id == User.department_id)
            .where(Department.path.startswith(sales.path))
        )
    )
    assert sorted(p.user_id for p in pack.people) == sorted(in_subtree)
    assert pack.totals() == {
        "people": len(in_subtree),
        "assignments": await count(db, Enrollment, in_subtree),
        "readings": await count(db, LessonReading, in_subtree),
        "attempts": await count(db, Attempt, in_subtree),
        "acknowledgments": await count(db, Acknowledgment, in_subtree),
        "certificates": await count(db, Certificate, in_subtree),
        # Everyone active in the subtree who has not acknowledged the one published version.
        "pending": len(set(in_subtree) - set(await db.scalars(select(Acknowledgment.user_id)))),
    }
    # The fixture's figures by hand: e1, e2, e3 in 営業部 and below; e2 read 2 lessons and passed 2 tests, e3
    # failed one; e2 and e3 acknowledged; e2 holds the one certificate.
    assert pack.totals() == {
        "people": 3,
        "assignments": 3,
        "readings": 2,
        "attempts": 3,
        "acknowledgments": 2,
        "pending": 1,
        "certificates": 1,
    }
    assert [(org.users["e1"].id, 1)] == [(p.user_id, p.version_number) for p in pack.pending]
    assert {p.name for p in pack.people} == {"社員1", "社員2", "社員3"}


async def test_csv_and_pdf_carry_the_same_records(org: Org, db: AsyncSession) -> None:
    await acknowledge_policy(db, org, ["e2"])
    pack = await evidence.for_department(db, department=org.departments["本社"], now=utcnow())
    rows = list(csv.reader(io.StringIO(exports.pack_csv(pack).decode("utf-8-sig"))))
    assert rows[0] == exports.CSV_COLUMNS
    body = rows[1:]
    totals = pack.totals()
    by_kind = {label: sum(1 for row in body if row[3] == label) for label in exports.KIND_LABELS.values()}
    assert by_kind == {exports.KIND_LABELS[key]: totals[key] for key in exports.KIND_LABELS}
    ack_row = next(row for row in body if row[3] == "方針・マニュアルの確認")
    assert ack_row[0] == "社員2" and ack_row[5] == "第1版" and ack_row[7] == "内容を理解しました"

    reader = PdfReader(io.BytesIO(exports.pack_pdf(pack, generated_by="管理者")))
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    assert f"対象者{totals['people']}名" in text
    assert f"方針・マニュアルの確認{totals['acknowledgments']}件(未確認{totals['pending']}件)" in text
    for person in pack.people:
        assert person.name in text
    assert "作成者:管理者" in text


async def prepared(app, client: httpx.AsyncClient, department_id: int, file_format: str) -> httpx.Response:
    """Ask for a department's pack, let the worker make it, follow the page to the file and download it."""
    started = await client.post(f"/manage/evidence/departments/{department_id}/pack", data={"format": file_format})
    assert started.status_code == 303 and started.headers["location"].startswith("/manage/evidence?job=")
    job_id = started.headers["location"].rsplit("=", 1)[1]
    page = await client.get(started.headers["location"])
    assert f'hx-get="/jobs/{job_id}"' in page.text  # the page follows the job
    assert await run_jobs(app) == 1
    panel = BeautifulSoup((await client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"})).text, "html.parser")
    link = panel.select_one("a[href$='/file']")
    assert link is not None, panel.get_text()
    return await client.get(link["href"])


async def test_managers_download_packs_inside_their_scope_only(org: Org, db: AsyncSession, app) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as manager:
        await sign_in(manager, "manager.a@example.com")
        sales, stores = org.departments["営業部"], org.departments["店舗部"]
        response = await prepared(app, manager, sales.id, "csv")
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        assert "filename*=UTF-8''" in response.headers["content-disposition"]
        pdf = await prepared(app, manager, sales.id, "pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        refused = await manager.post(f"/manage/evidence/departments/{stores.id}/pack", data={"format": "pdf"})
        assert refused.status_code == 404
        assert (await manager.get(f"/manage/evidence/employees/{org.users['e2'].id}.csv")).status_code == 200
        assert (await manager.get(f"/manage/evidence/employees/{org.users['e4'].id}.csv")).status_code == 404
        page = await manager.get("/manage/evidence")
        assert "営業部" in page.text and "店舗部" not in page.text


async def test_a_pdf_too_large_to_print_is_refused_with_the_way_out(
    org: Org, db: AsyncSession, app, monkeypatch
) -> None:
    monkeypatch.setattr(exports, "MAX_PDF_RECORDS", 3)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as admin:
        await sign_in(admin, "admin@example.com")
        head_office = org.departments["本社"].id
        started = await admin.post(f"/manage/evidence/departments/{head_office}/pack", data={"format": "pdf"})
        assert await run_jobs(app) == 1
        panel = await admin.get(started.headers["location"].replace("/manage/evidence?job=", "/jobs/"))
        assert "CSV をダウンロード" in panel.text and "/file" not in panel.text  # dead at once, with the way out
        assert (await prepared(app, admin, head_office, "csv")).status_code == 200
