from pathlib import Path

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app import demo
from app.auth.models import User
from app.authoring import drafts
from app.content import service as content_service
from app.content.pack import load_pack
from app.documents import acknowledgments
from app.documents import service as documents_service
from app.documents.kinds import kind_for
from app.progress.models import CourseCompletion, LessonProgress
from app.quiz.models import Attempt
from tests.conftest import sign_in

CONTENT = Path(__file__).resolve().parents[1] / "content"


async def test_demo_organisation_has_the_promised_accounts_and_varied_progress(
    db: AsyncSession, client: httpx.AsyncClient
) -> None:
    for pack in ("kasuhara-basics", "kasuhara-practice"):
        await drafts.import_pack(db, pack=load_pack(CONTENT / pack))
    assert await demo.is_empty(db)
    accounts = await demo.create_demo(db)
    await db.commit()
    assert not await demo.is_empty(db)
    roles = [account.role for account in accounts]
    assert roles.count("admin") == 1 and roles.count("manager") == 2 and roles.count("learner") >= 20
    emails = {account.email for account in accounts}
    assert {"admin@example.com", "manager@example.com", "learner@example.com"} <= emails
    staff = list(await db.scalars(select(User).where(User.email.is_(None)).order_by(User.employee_number)))
    assert [user.employee_number for user in staff] == [number for number, _, _ in demo.STAFF_WITHOUT_EMAIL]
    assert all(user.password_hash is None and user.is_active for user in staff)  # waiting for a printed slip

    learner = await db.scalar(select(User).where(User.email == "learner@example.com"))
    read = await db.scalar(
        select(func.count()).where(LessonProgress.user_id == learner.id, LessonProgress.read_at.is_not(None))
    )
    assert read == 1
    assert await db.scalar(select(func.count(Attempt.id))) > 20
    completions = await db.scalar(select(func.count(CourseCompletion.id)))
    assert 0 < completions < 20  # some finished, most did not

    from app.core.db import utcnow
    from app.dashboard import service as dashboard_service
    from app.dashboard.roster import RosterFilter
    from app.org.scope import EVERYTHING
    from tests.dashboard.oracle import headline_from_roster

    basics, _version = await content_service.get_course(db, slug="kasuhara-basics")
    whole = RosterFilter(course_id=basics.id)
    now = utcnow()
    counted = await dashboard_service.headline(db, scope=EVERYTHING, roster_filter=whole, now=now)
    assert counted == await headline_from_roster(db, scope=EVERYTHING, roster_filter=whole, now=now)
    assert counted.assigned == 26 and counted.overdue > 0  # 23 with e-mail, 3 store staff signing in by 社員番号
    from app.dashboard import analysis

    per_day = await analysis.completions_by_day(db, scope=EVERYTHING, roster_filter=whole, now=now)
    assert sum(per_day.values()) == counted.completed and len(per_day) > 1  # spread over several days

    for email in ("admin@example.com", "manager@example.com", "learner@example.com"):
        assert (await sign_in(client, email, demo.DEMO_PASSWORD)).status_code == 303


async def test_the_demo_publishes_a_policy_to_read_and_sign(db: AsyncSession, client: httpx.AsyncClient) -> None:
    await drafts.import_pack(db, pack=load_pack(CONTENT / "kasuhara-basics"))
    await demo.create_demo(db)
    await db.commit()
    policy = await documents_service.get_document(db, kind=kind_for("policy"))
    current = await documents_service.current_version(db, document=policy)
    assert current is not None and current.number == 1 and current.requires_ack
    assert "株式会社デモ商事" in current.title
    summary = await acknowledgments.acknowledgment_summary(db, document=policy)
    assert summary.up_to_date == 6 and summary.audience > 6

    assert (await sign_in(client, "learner@example.com", demo.DEMO_PASSWORD)).status_code == 303
    my = await client.get("/my")
    assert "必読の文書" in my.text and "基本方針" in my.text and "未確認" in my.text
