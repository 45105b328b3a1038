"""The policy wizard and read-and-sign, through the app: drafts, preview, publishing, acknowledgments."""

from __future__ import annotations

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.models import User
from app.documents.models import Acknowledgment, CompanyDocument, DocumentVersion
from app.org import service as org_service
from tests.conftest import make_user, sign_in
from tests.documents.conftest import _form_values, fill_required_policy, publish


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


async def test_each_step_saves_the_draft_and_a_reload_shows_it(admin_client: httpx.AsyncClient) -> None:
    form = _form_values((await admin_client.get("/admin/documents/policy/steps/definition")).text)
    form["behaviours"] = ["dogeza", "sexual"]
    form["behaviours_extra"] = "契約金額の大幅な減額を繰り返し求める\n担当者の自宅を調べようとする"
    response = await admin_client.post("/admin/documents/policy/steps/definition", data={**form, "_go": "next"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/documents/policy/steps/response"

    reloaded = _form_values((await admin_client.get("/admin/documents/policy/steps/definition")).text)
    assert reloaded["behaviours"] == ["dogeza", "sexual"]
    assert reloaded["behaviours_extra"] == "契約金額の大幅な減額を繰り返し求める\n担当者の自宅を調べようとする"


async def test_autosave_answers_htmx_with_a_status_line_only(admin_client: httpx.AsyncClient, db: AsyncSession) -> None:
    form = _form_values((await admin_client.get("/admin/documents/policy/steps/stance")).text)
    form.update(company_name="株式会社オート")
    response = await admin_client.post(
        "/admin/documents/policy/steps/stance", data=form, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    fragment = soup(response.text)
    assert fragment.select_one("#saved-status") is not None and fragment.select_one("form") is None
    document = await db.scalar(select(CompanyDocument).where(CompanyDocument.kind == "policy"))
    assert document is not None and document.draft["company_name"] == "株式会社オート"


async def test_an_invalid_field_is_refused_and_the_valid_ones_are_kept(
    admin_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    form = _form_values((await admin_client.get("/admin/documents/policy/steps/definition")).text)
    form["behaviours"] = ["dogeza", "no-such-option"]
    form["behaviours_extra"] = "書き足した行為"
    response = await admin_client.post("/admin/documents/policy/steps/definition", data={**form, "_go": "next"})
    assert response.status_code == 422
    page = soup(response.text)
    assert "選択肢にない値です" in page.select_one(".field-error").get_text()
    document = await db.scalar(select(CompanyDocument).where(CompanyDocument.kind == "policy"))
    assert document is not None
    assert "behaviours" not in document.draft and document.draft["behaviours_extra"] == ["書き足した行為"]


async def test_publishing_needs_the_required_answers_and_stores_nothing_before(
    admin_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    preview = await admin_client.get("/admin/documents/policy/preview")
    problems = [li.get_text() for li in soup(preview.text).select(".error-list li")]
    assert any("会社名" in problem for problem in problems)
    refused = await publish(admin_client)
    assert refused.status_code == 422 and "公開できません" in refused.text
    assert await db.scalar(select(func.count()).select_from(DocumentVersion)) == 0


async def test_the_published_policy_contains_every_chosen_element(
    admin_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await fill_required_policy(admin_client)
    form = _form_values((await admin_client.get("/admin/documents/policy/steps/escalation")).text)
    form.update(
        escalation_first="店長・売場責任者", escalation_second="本部お客様相談室", escalation_final="法務部と経営会議"
    )
    await admin_client.post("/admin/documents/policy/steps/escalation", data={**form, "_go": "next"})
    form = _form_values((await admin_client.get("/admin/documents/policy/steps/definition")).text)
    form["behaviours"] = ["dogeza", "restraint"]
    await admin_client.post("/admin/documents/policy/steps/definition", data={**form, "_go": "next"})

    response = await publish(admin_client, change_note="初版")
    assert response.status_code == 303 and response.headers["location"] == "/admin/documents/policy?published=1"
    version = await db.scalar(select(DocumentVersion))
    assert version is not None and version.number == 1 and version.requires_ack
    text = version.markdown
    for element in (
        "株式会社テスト商事",
        "代表取締役 山田花子",
        "2026年12月1日",
        "店長・売場責任者",
        "本部お客様相談室",
        "法務部と経営会議",
        "土下座の要求",
        "長時間の居座り",
    ):
        assert element in text, element
    assert "性的な発言" not in text  # an option that was unticked
    page = await admin_client.get("/admin/documents/policy/versions/1")
    assert "株式会社テスト商事" in soup(page.text).select_one("article").get_text()
    assert (
        await db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "document.publish"))
        == 1
    )


async def test_publishing_the_same_text_again_is_refused(admin_client: httpx.AsyncClient) -> None:
    await fill_required_policy(admin_client)
    assert (await publish(admin_client)).status_code == 303
    again = await publish(admin_client)
    assert again.status_code == 409 and "変更がありません" in again.text


async def _learner(db: AsyncSession, email: str = "staff@example.com", department: str | None = None) -> User:
    user = await make_user(db, email, name="現場 花子")
    if department:
        user.department_id = (await org_service.ensure_path(db, path=department)).id
        await db.commit()
    return user


async def test_acknowledgment_is_pinned_to_the_version_read(
    admin_client: httpx.AsyncClient, client: httpx.AsyncClient, db: AsyncSession, app
) -> None:
    await fill_required_policy(admin_client)
    await publish(admin_client)
    staff = await _learner(db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as learner:
        await sign_in(learner, staff.email)
        my = await learner.get("/my")
        assert "未確認" in soup(my.text).select_one(".required-reading").get_text()
        page = await learner.get("/documents/policy")
        assert page.status_code == 200 and "株式会社テスト商事" in page.text
        unticked = await learner.post("/documents/policy/acknowledge", data={"version": "1"})
        assert unticked.status_code == 422
        done = await learner.post("/documents/policy/acknowledge", data={"version": "1", "understood": "yes"})
        assert done.status_code == 303
        ack = await db.scalar(select(Acknowledgment).where(Acknowledgment.user_id == staff.id))
        version_1 = await db.scalar(select(DocumentVersion).where(DocumentVersion.number == 1))
        assert ack is not None and version_1 is not None and ack.version_id == version_1.id

        # A substantive change: the acknowledgment of version 1 no longer counts, and a stale form is refused.
        form = _form_values((await admin_client.get("/admin/documents/policy/steps/desk")).text)
        form["desk_contact"] = "内線 1234"
        await admin_client.post("/admin/documents/policy/steps/desk", data={**form, "_go": "next"})
        assert (await publish(admin_client, change="substantive")).status_code == 303
        assert "改訂あり" in soup((await learner.get("/my")).text).select_one(".required-reading").get_text()
        stale = await learner.post("/documents/policy/acknowledge", data={"version": "1", "understood": "yes"})
        assert stale.status_code == 409 and "新しい版" in stale.text
        await learner.post("/documents/policy/acknowledge", data={"version": "2", "understood": "yes"})

        # A correction marked as such keeps the acknowledgment of version 2 valid.
        form["desk_contact"] = "内線 1235"
        await admin_client.post("/admin/documents/policy/steps/desk", data={**form, "_go": "next"})
        assert (await publish(admin_client, change="correction")).status_code == 303
        page = soup((await learner.get("/documents/policy")).text)
        assert "第3版" in page.get_text() and page.select_one(".ack-card form") is None
        assert "確認済み" in page.select_one(".ack-card").get_text()

    numbers = (
        (
            await db.execute(
                select(DocumentVersion.number)
                .join(Acknowledgment, Acknowledgment.version_id == DocumentVersion.id)
                .where(Acknowledgment.user_id == staff.id)
                .order_by(DocumentVersion.number)
            )
        )
        .scalars()
        .all()
    )
    assert numbers == [1, 2]
    report = soup((await admin_client.get("/admin/documents/policy/acknowledgments")).text)
    row = next(tr for tr in report.select("tbody tr") if "現場 花子" in tr.get_text())
    assert "第2版" in row.get_text() and "確認済み" in row.get_text()


async def test_the_audience_can_be_one_department(admin_client: httpx.AsyncClient, db: AsyncSession, app) -> None:
    inside = await _learner(db, "in@example.com", "本社/営業部/第一課")
    outside = await _learner(db, "out@example.com", "本社/店舗部")
    sales = await org_service.ensure_path(db, path="本社/営業部")
    await db.commit()
    await fill_required_policy(admin_client)
    assert (await publish(admin_client, department_id=str(sales.id))).status_code == 303
    for user, status in ((inside, 200), (outside, 404)):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            await sign_in(c, user.email)
            assert (await c.get("/documents/policy")).status_code == status
    csv_text = (await admin_client.get("/admin/documents/policy/acknowledgments.csv")).content.decode("utf-8-sig")
    lines = csv_text.strip().split("\r\n")
    assert lines[0].startswith("氏名,社員番号") and len(lines) == 2 and "in@example.com" in lines[1]


async def test_manual_template_can_be_edited_reset_and_published(
    admin_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    form = _form_values((await admin_client.get("/admin/documents/manual/steps/company")).text)
    form["company_name"] = "株式会社マニュアル"
    assert (
        await admin_client.post("/admin/documents/manual/steps/company", data={**form, "_go": "next"})
    ).status_code == 303
    bad = await admin_client.post(
        "/admin/documents/manual/steps/template", data={"template": "# 表題\n\n{{ no_such_value }}", "_go": "stay"}
    )
    assert bad.status_code == 303
    preview = await admin_client.get("/admin/documents/manual/preview")
    assert "no_such_value" in soup(preview.text).select_one(".error-list").get_text()
    assert (await publish(admin_client, kind="manual")).status_code == 422
    await admin_client.post("/admin/documents/manual/steps/template", data={"template": "", "_reset": "1"})
    assert (await publish(admin_client, kind="manual")).status_code == 303
    version = await db.scalar(select(DocumentVersion))
    assert version is not None and "株式会社マニュアル" in version.markdown and "{{" not in version.markdown
    pdf = await admin_client.get("/admin/documents/manual/versions/1/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_a_company_course_becomes_a_course_for_the_audience(
    admin_client: httpx.AsyncClient, db: AsyncSession, app
) -> None:
    from app.content.models import Course
    from app.quiz.models import Quiz

    staff = await _learner(db, "staff@example.com", "本社/店舗部")
    await fill_required_policy(admin_client)
    page = soup((await admin_client.get("/admin/documents/policy/steps/test")).text)
    sample = page.select_one("textarea#test").get_text()
    assert "最初に報告する相手" in sample

    broken = await admin_client.post(
        "/admin/documents/policy/steps/test", data={"test": "questions: [", "_test": "attach"}
    )
    assert broken.status_code == 303
    preview = soup((await admin_client.get("/admin/documents/policy/preview")).text)
    assert any("社内テスト" in li.get_text() for li in preview.select(".error-list li"))
    assert (await publish(admin_client)).status_code == 422

    await admin_client.post("/admin/documents/policy/steps/test", data={"test": sample, "_test": "attach"})
    assert (await publish(admin_client)).status_code == 303
    course = await db.scalar(select(Course).where(Course.slug == "company-policy"))
    assert course is not None
    quiz = await db.scalar(select(Quiz).where(Quiz.version_id == course.current_version_id))
    assert quiz is not None and [q["def"]["id"] for q in quiz.questions] == ["first-report", "alone", "desk"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as learner:
        await sign_in(learner, staff.email)
        my = soup((await learner.get("/my")).text)
        assert "社内テスト" in " ".join(h.get_text() for h in my.select(".course-card h2"))
        lesson = await learner.get("/courses/company-policy/lessons/document")
        assert lesson.status_code == 200 and "株式会社テスト商事" in lesson.text

    # Taking the test off: the next version has none, and the page says so.
    await admin_client.post("/admin/documents/policy/steps/test", data={"_test": "none"})
    page = soup((await admin_client.get("/admin/documents/policy/steps/test")).text)
    assert "テストなし" in page.get_text()


async def test_the_wizard_marks_steps_with_required_fields_still_empty(admin_client: httpx.AsyncClient) -> None:
    def marked(html: str) -> list[str]:
        return [a["href"].rsplit("/", 1)[-1] for a in soup(html).select(".stepper a") if a.select_one(".required")]

    assert marked((await admin_client.get("/admin/documents/policy/steps/definition")).text) == ["stance"]
    await fill_required_policy(admin_client)
    assert marked((await admin_client.get("/admin/documents/policy/preview")).text) == []


async def test_unacknowledged_people_can_be_reminded_by_mail(
    admin_client: httpx.AsyncClient, db: AsyncSession, app
) -> None:
    from app.mail.models import OutboxMessage

    done = await _learner(db, "done@example.com")
    await _learner(db, "pending@example.com")
    await fill_required_policy(admin_client)
    await publish(admin_client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as learner:
        await sign_in(learner, done.email)
        await learner.post("/documents/policy/acknowledge", data={"version": "1", "understood": "yes"})
    page = await admin_client.post("/admin/documents/policy/remind")
    assert page.status_code == 303 and "reminded=2" in page.headers["location"]  # the admin and pending@
    addresses = sorted((await db.scalars(select(OutboxMessage.to_address))).all())
    assert addresses == ["admin@example.com", "pending@example.com"]
    message = await db.scalar(select(OutboxMessage).where(OutboxMessage.to_address == "pending@example.com"))
    assert message is not None and "/documents/policy" in message.body and "第1版" in message.body


async def test_the_document_page_says_when_the_draft_has_unpublished_changes(admin_client: httpx.AsyncClient) -> None:
    await fill_required_policy(admin_client)
    await publish(admin_client)
    page = soup((await admin_client.get("/admin/documents/policy")).text)
    assert "まだ公開していない変更" not in page.get_text()
    form = _form_values((await admin_client.get("/admin/documents/policy/steps/desk")).text)
    form["desk_hours"] = "平日 9時〜18時"
    await admin_client.post("/admin/documents/policy/steps/desk", data={**form, "_go": "stay"})
    page = soup((await admin_client.get("/admin/documents/policy")).text)
    assert "まだ公開していない変更" in page.get_text()


async def test_a_substantive_revision_asks_everyone_to_pass_the_company_course_again(
    admin_client: httpx.AsyncClient, db: AsyncSession, admin: User
) -> None:
    from app.content.models import Course
    from app.enrolments.models import Enrollment
    from app.progress.models import CourseCompletion
    from tests.org_fixture import read, take_test

    staff = await _learner(db, "staff@example.com", "本社/店舗部")
    await fill_required_policy(admin_client)
    sample = soup((await admin_client.get("/admin/documents/policy/steps/test")).text).select_one("textarea").get_text()
    await admin_client.post("/admin/documents/policy/steps/test", data={"test": sample, "_test": "attach"})
    assert (await publish(admin_client)).status_code == 303
    course = await db.scalar(select(Course).where(Course.slug == "company-policy"))
    assert course is not None
    enrolled = set((await db.scalars(select(Enrollment.user_id).where(Enrollment.course_id == course.id))).all())
    assert enrolled == {staff.id, admin.id}  # the admin has no department: assigned directly
    await read(db, staff, course, "document")
    await take_test(db, staff, course, "document", answers=None)
    await db.commit()
    completions = select(func.count()).select_from(CourseCompletion).where(CourseCompletion.user_id == staff.id)
    assert await db.scalar(completions) == 1

    form = _form_values((await admin_client.get("/admin/documents/policy/steps/desk")).text)
    form["desk_hours"] = "平日 9時〜18時"
    await admin_client.post("/admin/documents/policy/steps/desk", data={**form, "_go": "stay"})
    assert (await publish(admin_client, change="correction")).status_code == 303
    db.expire_all()
    assert await db.scalar(completions) == 1  # a correction keeps the pass
    form["desk_hours"] = "平日 9時〜19時"
    await admin_client.post("/admin/documents/policy/steps/desk", data={**form, "_go": "stay"})
    assert (await publish(admin_client, change="substantive")).status_code == 303
    db.expire_all()
    assert await db.scalar(completions) == 0  # read and pass again


async def test_the_counts_agree_with_the_list_and_keep_same_named_departments_apart(
    admin_client: httpx.AsyncClient, db: AsyncSession, app
) -> None:
    from app.documents import acknowledgments
    from app.documents.models import CompanyDocument

    first = await _learner(db, "a@example.com", "本社/営業部/第一課")
    await _learner(db, "b@example.com", "本社/店舗部/第一課")
    await fill_required_policy(admin_client)
    await publish(admin_client)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as learner:
        await sign_in(learner, first.email)
        await learner.post("/documents/policy/acknowledge", data={"version": "1", "understood": "yes"})
    document = await db.scalar(select(CompanyDocument).where(CompanyDocument.kind == "policy"))
    assert document is not None
    report = await acknowledgments.acknowledgment_report(db, document=document)
    assert (report.audience, report.up_to_date) == (len(report.rows), sum(r.up_to_date for r in report.rows)) == (3, 1)
    assert [entry for entry in report.by_department if entry[0] == "第一課"] == [("第一課", 1, 1), ("第一課", 1, 0)]


async def test_the_list_pages_through_the_pending_people(
    admin_client: httpx.AsyncClient, db: AsyncSession, monkeypatch
) -> None:
    from app.documents import acknowledgments

    monkeypatch.setattr(acknowledgments, "PAGE_SIZE", 2)
    for index in range(3):
        await make_user(db, f"p{index}@example.com", name=f"未確認 {index}")
    await fill_required_policy(admin_client)
    await publish(admin_client)
    names = []
    for page in (1, 2):
        html = soup((await admin_client.get(f"/admin/documents/policy/acknowledgments?pending=1&page={page}")).text)
        names += [tr.select_one("td").get_text() for tr in html.select("tbody tr")]
        assert html.select_one(".pager") is not None
    assert len(names) == 4 and len(set(names)) == 4  # three staff and the admin, each once
