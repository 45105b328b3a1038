from datetime import timedelta

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.content.models import Course
from app.core.db import utcnow
from app.progress.models import CourseCompletion, LessonProgress
from tests.conftest import make_user, sign_in
from tests.learner.test_quiz_routes import quiz_for
from tests.quiz.helpers import answer_fields, page_text, start


async def half_a_minute_later(db: AsyncSession, learner: User) -> None:
    """The page's next heartbeat is due: move the last one that counted 30 seconds into the past."""
    for row in await db.scalars(select(LessonProgress).where(LessonProgress.user_id == learner.id)):
        if row.last_opened_at is not None:
            row.last_opened_at -= timedelta(seconds=30)
    await db.commit()


def statuses(html: str) -> list[str]:
    return [badge.get_text() for badge in BeautifulSoup(html, "html.parser").select(".lesson-item .badge")]


async def pass_test(client: httpx.AsyncClient, db: AsyncSession, course: Course, lesson_slug: str | None) -> None:
    quiz = await quiz_for(db, course, lesson_slug)
    attempt_id = await start(client, quiz.id)
    response = await client.post(
        f"/attempts/{attempt_id}/submit", data=await answer_fields(db, attempt_id, correct=True)
    )
    assert response.status_code == 303


async def test_lesson_page_records_opening_reading_and_time(
    learner_client: httpx.AsyncClient, db: AsyncSession, learner: User
) -> None:
    page = await learner_client.get("/courses/mini-course/lessons/basics")
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.h1.get_text() == "基本"
    assert [a.get_text() for a in soup.select(".toc a")] == ["定義"]
    assert "2026年10月1日" in soup.select_one(".lesson-body").get_text()  # variables filled in at import
    assert soup.select_one(".lesson-body img")["src"].endswith("/images/flow.svg")
    assert statuses((await learner_client.get("/courses/mini-course")).text)[0] == "学習中"

    for _beat in range(2):  # the page beats every 30 seconds
        await half_a_minute_later(db, learner)
        await learner_client.post("/courses/mini-course/lessons/basics/heartbeat")
    read = await learner_client.post("/courses/mini-course/lessons/basics/read", headers={"HX-Request": "true"})
    assert "このレッスンは読了済みです。" in read.text
    row = await db.scalar(select(LessonProgress).where(LessonProgress.user_id == learner.id))
    assert row is not None and row.read_at is not None and row.seconds_spent == 60
    first_read = row.read_at
    await learner_client.post("/courses/mini-course/lessons/basics/read")
    await db.refresh(row)
    assert row.read_at == first_read  # reading again does not move the first read
    assert statuses((await learner_client.get("/courses/mini-course")).text)[0] == "読了"


async def test_images_are_served_from_the_database_to_signed_in_users(
    learner_client: httpx.AsyncClient, client: httpx.AsyncClient, mini_course: Course
) -> None:
    page = await learner_client.get("/courses/mini-course/lessons/basics")
    src = BeautifulSoup(page.text, "html.parser").select_one(".lesson-body img")["src"]
    image = await learner_client.get(src)
    assert image.status_code == 200 and image.headers["content-type"] == "image/svg+xml"
    assert "default-src 'none'" in image.headers["content-security-policy"]
    assert (await learner_client.get(src.replace("flow", "nope"))).status_code == 404


async def test_completion_is_recorded_once_and_never_moves(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course, learner: User
) -> None:
    for slug in ("basics", "responses"):
        await learner_client.post(f"/courses/mini-course/lessons/{slug}/read")
        await pass_test(learner_client, db, mini_course, slug)
    assert await db.scalar(select(CourseCompletion).where(CourseCompletion.user_id == learner.id)) is None
    course_page = page_text((await learner_client.get("/courses/mini-course")).text)
    assert "修了テストへ" in course_page
    await pass_test(learner_client, db, mini_course, None)
    completion = await db.scalar(select(CourseCompletion).where(CourseCompletion.user_id == learner.id))
    assert completion is not None
    completed_at = completion.completed_at

    await pass_test(learner_client, db, mini_course, None)  # passing again later
    await learner_client.post("/courses/mini-course/lessons/basics/read")
    rows = (await db.scalars(select(CourseCompletion).where(CourseCompletion.user_id == learner.id))).all()
    assert len(rows) == 1
    await db.refresh(rows[0])
    assert rows[0].completed_at == completed_at
    my_page = BeautifulSoup((await learner_client.get("/my")).text, "html.parser")
    assert my_page.select_one("progress")["value"] == "100"
    assert "修了" in my_page.select_one(".course-card").get_text()


async def test_my_training_resumes_where_the_learner_stopped(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    my = BeautifulSoup((await learner_client.get("/my")).text, "html.parser")
    button = my.select_one(".course-card .button.primary")
    assert button.get_text() == "受講を始める" and button["href"] == "/courses/mini-course/lessons/basics"
    await learner_client.post("/courses/mini-course/lessons/basics/read")
    my = BeautifulSoup((await learner_client.get("/my")).text, "html.parser")
    button = my.select_one(".course-card .button.primary")
    assert button.get_text() == "続きから" and button["href"] == "/courses/mini-course/lessons/basics/test"
    assert my.select_one("progress")["value"] == "20"  # 1 of 5 steps: 2 reads, 2 tests, 1 final test


async def test_unknown_course_or_lesson_is_a_friendly_404(learner_client: httpx.AsyncClient) -> None:
    for url in (
        "/courses/nope",
        "/courses/mini-course/lessons/nope",
        "/courses/mini-course/lessons/glossary/test",
    ):
        response = await learner_client.get(url)
        assert response.status_code == 404
        assert BeautifulSoup(response.text, "html.parser").h1.get_text() == "ページが見つかりません"


async def test_pack_html_is_shown_where_htmx_ignores_it(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    """Even if a sanitiser bug let an hx-* attribute through, htmx would not act on it inside hx-disable."""
    lesson = BeautifulSoup((await learner_client.get("/courses/mini-course/lessons/basics")).text, "html.parser")
    assert lesson.select_one(".lesson-body").has_attr("hx-disable")
    attempt_id = await start(learner_client, (await quiz_for(db, mini_course, "basics")).id)
    paper = BeautifulSoup((await learner_client.get(f"/attempts/{attempt_id}")).text, "html.parser")
    prompts = paper.select(".prompt")
    assert prompts and all(prompt.has_attr("hx-disable") for prompt in prompts)


async def test_a_repeat_view_writes_nothing_and_a_new_training_cycle_counts_again(
    app, client: httpx.AsyncClient, db: AsyncSession, org
) -> None:
    """The first view starts the course (counted once on the dashboard); every later view is a pure read of two
    statements, however much later it comes (the open page's heartbeat keeps last_opened_at current); the first
    view in a new training cycle is recorded again."""
    from sqlalchemy import event, update

    from app.counters.models import LessonStat, RosterStat
    from app.enrolments.models import Enrollment
    from app.progress.models import CourseStatus
    from tests.conftest import sign_in

    learner, page = org.users["e1"], f"/courses/{org.course.slug}/lessons/basics"
    await sign_in(client, learner.email)
    opened_before = await db.scalar(select(func.sum(LessonStat.opened)).where(LessonStat.lesson_slug == "basics"))
    started_before = await db.scalar(select(func.sum(RosterStat.started)))

    assert (await client.get(page)).status_code == 200
    status = await db.scalar(select(CourseStatus).where(CourseStatus.user_id == learner.id))
    assert status is not None and status.started_at is not None
    first_activity = status.last_activity_at
    opened = await db.scalar(select(func.sum(LessonStat.opened)).where(LessonStat.lesson_slug == "basics"))
    started = await db.scalar(select(func.sum(RosterStat.started)))
    assert (opened, started) == (opened_before + 1, started_before + 1)

    progress = await db.scalar(select(LessonProgress).where(LessonProgress.user_id == learner.id))
    progress.last_opened_at -= timedelta(hours=3)  # the learner comes back much later
    await db.commit()
    last_opened = progress.last_opened_at
    statements: list[str] = []
    listener = lambda *args, **_: statements.append(args[2])  # noqa: E731  (conn, cursor, statement, ...)
    event.listen(app.state.engine.sync_engine, "before_cursor_execute", listener)
    try:
        assert (await client.get(page)).status_code == 200
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", listener)
    assert len(statements) == 2, statements  # the session with its user; the course with this lesson's reading
    assert all(sql.lstrip().upper().startswith("SELECT") for sql in statements), statements
    await db.refresh(status)
    await db.refresh(progress)
    assert (status.last_activity_at, progress.last_opened_at) == (first_activity, last_opened)

    # A new training cycle begins: the first view in it counts as an activity of the cycle again.
    cycle_start = utcnow()
    await db.execute(update(Enrollment).where(Enrollment.user_id == learner.id).values(cycle_started_at=cycle_start))
    await db.execute(update(CourseStatus).where(CourseStatus.user_id == learner.id).values(started_at=None))
    await db.commit()
    assert (await client.get(page)).status_code == 200
    await db.refresh(status)
    await db.refresh(progress)
    assert progress.last_opened_at >= cycle_start and status.started_at is not None


async def test_a_heartbeat_counts_only_once_its_time_has_passed(
    learner_client: httpx.AsyncClient, db: AsyncSession, learner: User
) -> None:
    await learner_client.get("/courses/mini-course/lessons/basics")
    beat = "/courses/mini-course/lessons/basics/heartbeat"
    assert (await learner_client.post(beat)).status_code == 204  # at once after opening: nothing yet
    row = await db.scalar(select(LessonProgress).where(LessonProgress.user_id == learner.id))
    assert row is not None and row.seconds_spent == 0
    await half_a_minute_later(db, learner)
    for _ in range(10):  # a script, a replay or ten tabs: the server's clock decides
        assert (await learner_client.post(beat)).status_code == 204
    await db.refresh(row)
    assert row.seconds_spent == 30
    await half_a_minute_later(db, learner)
    await learner_client.post(beat)
    await db.refresh(row)
    assert row.seconds_spent == 60


async def test_a_minimum_reading_time_keeps_読了_from_counting_before_it_has_passed(
    learner_client: httpx.AsyncClient, db: AsyncSession, learner: User, mini_course: Course
) -> None:
    await db.refresh(mini_course)
    mini_course.min_reading_seconds = 60
    await db.commit()
    lesson = "/courses/mini-course/lessons/basics"
    page = await learner_client.get(lesson)
    assert "各レッスンのページを1分以上開いてから読了にできます(これまで: 0秒)" in page_text(page.text)

    refused = await learner_client.post(f"{lesson}/read", headers={"HX-Request": "true"})
    assert refused.status_code == 200  # the read card, with the reason
    assert "あと約1分開いて読んでください" in refused.text and "読了にする" in refused.text  # the button stays
    row = await db.scalar(select(LessonProgress).where(LessonProgress.user_id == learner.id))
    assert row is not None and row.read_at is None

    await half_a_minute_later(db, learner)
    await learner_client.post(f"{lesson}/heartbeat")
    plain = await learner_client.post(f"{lesson}/read")  # without htmx: the whole page, with the reason
    assert plain.status_code == 422 and "あと約30秒開いて読んでください" in page_text(plain.text)
    assert "<h1>基本</h1>" in plain.text
    await db.refresh(row)
    assert row.read_at is None

    await half_a_minute_later(db, learner)
    await learner_client.post(f"{lesson}/heartbeat")
    read = await learner_client.post(f"{lesson}/read", headers={"HX-Request": "true"})
    assert read.status_code == 200 and "このレッスンは読了済みです。" in read.text
    await db.refresh(row)
    assert row.read_at is not None and row.seconds_spent == 60


async def test_the_admin_sets_the_minimum_reading_time_in_the_course_settings(
    client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    admin = await make_user(db, "admin@example.com", Role.ADMIN, "管理者")
    assert (await sign_in(client, admin.email)).status_code == 303
    settings = f"/admin/content/courses/{mini_course.id}/settings"
    saved = await client.post(settings, data={"valid_months": "12", "min_reading_minutes": "2"})
    assert saved.status_code == 303
    await db.refresh(mini_course)
    assert mini_course.min_reading_seconds == 120 and mini_course.valid_months == 12
    logged = await db.scalars(select(AuditEvent.summary).where(AuditEvent.action == "course.settings"))
    assert "mini-course の読了に必要な閲覧時間を 2分以上 に変更" in list(logged)
    page = await client.get(f"/admin/content/courses/{mini_course.id}")
    assert BeautifulSoup(page.text, "html.parser").select_one("#min-reading")["value"] == "2"

    for bad, message in (("abc", "分数(0〜60 の数字)"), ("61", "0〜60 分で指定してください")):
        refused = await client.post(settings, data={"valid_months": "24", "min_reading_minutes": bad})
        assert refused.status_code == 422 and message in page_text(refused.text)
        await db.refresh(mini_course)
        assert mini_course.min_reading_seconds == 120 and mini_course.valid_months == 12  # neither changed

    assert (await client.post(settings, data={"valid_months": "12", "min_reading_minutes": ""})).status_code == 303
    await db.refresh(mini_course)
    assert mini_course.min_reading_seconds == 0
