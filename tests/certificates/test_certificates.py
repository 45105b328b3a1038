"""Certificates: issued on completion, verified publicly (valid, expired, unknown, altered), expiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.certificates import codes
from app.certificates import service as certificates
from app.certificates.models import Certificate
from app.content.models import Course
from app.core.clock import add_months
from app.core.db import utcnow
from app.org.scope import EVERYTHING
from tests.org_fixture import Org, read, take_test


async def complete(db: AsyncSession, org: Org, key: str) -> None:
    for slug in ("basics", "responses"):
        await read(db, org.users[key], org.course, slug)
        await take_test(db, org.users[key], org.course, slug, answers=None)
    await db.commit()


def verdict_heading(html: str) -> str:
    return BeautifulSoup(html, "html.parser").select_one(".verify-result h2").get_text(strip=True)


async def test_completing_a_course_issues_one_certificate(org: Org, db: AsyncSession) -> None:
    rows = (await db.scalars(select(Certificate))).all()
    assert [(c.user_id, c.holder_name, c.version_number, c.expires_at) for c in rows] == [
        (org.users["e2"].id, "社員2", 1, None)
    ]
    await complete(db, org, "e2")  # reading and passing again changes nothing
    assert await db.scalar(select(func.count()).select_from(Certificate)) == 1
    assert codes.check(rows[0].code) is codes.CodeCheck.WELL_FORMED


async def test_a_course_with_a_validity_issues_expiring_certificates(org: Org, db: AsyncSession) -> None:
    course = await db.get(Course, org.course.id)
    assert course is not None
    course.valid_months = 12
    await db.commit()
    await complete(db, org, "e1")
    certificate = await db.scalar(select(Certificate).where(Certificate.user_id == org.users["e1"].id))
    assert certificate is not None and certificate.expires_at == add_months(certificate.completed_at, 12)


async def test_verification_page_answers_each_case(org: Org, db: AsyncSession, client: httpx.AsyncClient) -> None:
    certificate = await db.scalar(select(Certificate))
    assert certificate is not None
    shown = codes.display(certificate.code)

    valid = await client.get("/verify", params={"code": shown.lower()})
    assert valid.status_code == 200 and verdict_heading(valid.text) == "有効な修了証です"
    facts = BeautifulSoup(valid.text, "html.parser").select_one("dl.facts").get_text(" ", strip=True)
    assert "社員2" in facts and "e2@example.com" not in valid.text  # what the certificate shows, nothing more

    certificate.expires_at = utcnow() - timedelta(days=1)
    await db.commit()
    expired = await client.get("/verify", params={"code": shown})
    assert expired.status_code == 200 and "有効期限が切れています" in verdict_heading(expired.text)

    body = "".join(c for c in "ZZZZZZZZZZZZZZ")
    unknown_code = body + codes._check_characters(body)
    unknown = await client.get("/verify", params={"code": unknown_code})
    assert unknown.status_code == 404 and "見つかりません" in verdict_heading(unknown.text)

    position = 3
    flipped = "1" if certificate.code[position] != "1" else "2"
    tampered_code = certificate.code[:position] + flipped + certificate.code[position + 1 :]
    if codes.check(tampered_code) is codes.CodeCheck.ALTERED:  # 1 in 1,024 alterations keeps the check
        tampered = await client.get("/verify", params={"code": tampered_code})
        assert tampered.status_code == 404 and verdict_heading(tampered.text) == "確認番号が正しくありません"
    tampered_check = certificate.code[:-1] + ("0" if certificate.code[-1] != "0" else "1")
    tampered = await client.get("/verify", params={"code": tampered_check})
    assert tampered.status_code == 404 and verdict_heading(tampered.text) == "確認番号が正しくありません"

    malformed = await client.get("/verify", params={"code": "not a code"})
    assert malformed.status_code == 404 and "形式" in verdict_heading(malformed.text)
    assert (await client.get("/verify")).status_code == 200  # the empty form


async def test_the_learner_downloads_their_own_certificate_only(org: Org, db: AsyncSession, app) -> None:
    from tests.conftest import sign_in

    certificate = await db.scalar(select(Certificate))
    assert certificate is not None
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as owner:
        await sign_in(owner, "e2@example.com")
        page = await owner.get("/my/certificates")
        assert codes.display(certificate.code) in page.text
        pdf = await owner.get(f"/my/certificates/{certificate.id}/pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
        await sign_in(other, "e3@example.com")
        assert (await other.get(f"/my/certificates/{certificate.id}/pdf")).status_code == 404


async def test_the_certificate_pdf_says_what_it_certifies(org: Org, db: AsyncSession) -> None:
    import io

    from pypdf import PdfReader

    from app.certificates.pdf import render_certificate

    certificate = await db.scalar(select(Certificate))
    assert certificate is not None
    certificate.expires_at = datetime(2027, 11, 30, 14, 59, tzinfo=UTC)
    reader = PdfReader(io.BytesIO(render_certificate(certificate, base_url="https://lms.example.jp/")))
    text = "".join(reader.pages[0].extract_text().split())
    assert len(reader.pages) == 1
    for expected in (
        "修了証",
        "社員2",
        certificate.course_title.replace(" ", ""),
        "第1版",
        "2027年11月30日",
        codes.display(certificate.code),
        "https://lms.example.jp/verify?code=",
    ):
        assert expected in text, expected


async def test_managers_see_upcoming_expiries_in_their_scope(org: Org, db: AsyncSession) -> None:
    now = utcnow()
    certificate = await db.scalar(select(Certificate))
    assert certificate is not None
    certificate.expires_at = now + timedelta(days=20)
    await db.commit()
    rows = await certificates.upcoming_expiries(db, scope=EVERYTHING, now=now)
    assert [(row.certificate.id, row.department, row.days_left) for row in rows] == [(certificate.id, "第一課", 20)]
    later = await certificates.upcoming_expiries(db, scope=EVERYTHING, now=now - timedelta(days=200))
    assert later == []
