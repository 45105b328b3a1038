"""What a new version does to learners: attempts stay tied to the version they were taken on, readings carry over
by lesson slug, and a publication that asks for re-reading sends readers back to the changed lessons only."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.content.models import Course
from app.progress.models import CourseCompletion, CourseStatus, LessonProgress
from app.quiz.models import Attempt, Quiz
from tests.admin.helpers import (
    RESPONSES_FILE,
    RESPONSES_NEW,
    edited,
    parse,
    revised,
    text_of,
    upload_draft,
    versions_of,
)
from tests.conftest import run_jobs
from tests.learner.test_course_routes import pass_test, statuses
from tests.quiz.helpers import page_text

RECORDS = b"---\ntitle: \xe8\xa8\x98\xe9\x8c\xb2\nsummary: s\nminutes: 3\n---\n\n## \xe8\xa8\x98\xe9\x8c\xb2\n\nx\n"


def with_new_lesson(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files with a lesson `records` (no test) added after responses."""
    entry = "  - slug: records\n    file: lessons/03-records.md\nappendices:"
    return edited(files, "course.yaml", "appendices:", entry) | {"lessons/03-records.md": RECORDS}


async def publish(admin_client: httpx.AsyncClient, files: dict[str, bytes], *, reread: bool) -> int:
    version_id = await upload_draft(admin_client, files)
    response = await admin_client.post(
        f"/admin/content/versions/{version_id}/publish", data={"reread": "true"} if reread else {}
    )
    assert response.status_code == 303, response.text
    return version_id


async def read(client: httpx.AsyncClient, *slugs: str) -> None:
    for slug in slugs:
        response = await client.post(f"/courses/mini-course/lessons/{slug}/read")
        assert response.status_code == 303, response.text


async def standing(db: AsyncSession, user: User, course: Course) -> tuple[int, int]:
    """(lessons read, percent) as the dashboards read them, from course_status."""
    row = await db.scalar(
        select(CourseStatus)
        .where(CourseStatus.user_id == user.id, CourseStatus.course_id == course.id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row.lessons_read, row.percent


async def course_page(client: httpx.AsyncClient) -> tuple[list[str], str]:
    response = await client.get("/courses/mini-course")
    return statuses(response.text), text_of(parse(response).select_one(".progress-label"))


async def readings(db: AsyncSession, user: User) -> dict[str, tuple[object, int | None]]:
    rows = await db.scalars(
        select(LessonProgress).where(LessonProgress.user_id == user.id).execution_options(populate_existing=True)
    )
    return {row.lesson_slug: (row.read_at, row.read_version_id) for row in rows}


@pytest.fixture
async def reader(learner_client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The learner's client, once both lessons of the mini course are read: where every test here starts."""
    await read(learner_client, "basics", "responses")
    return learner_client


async def test_attempts_and_readings_survive_a_new_version_and_a_rollback(
    app,
    admin_client: httpx.AsyncClient,
    reader: httpx.AsyncClient,
    db: AsyncSession,
    mini_course: Course,
    learner: User,
) -> None:
    first_id = mini_course.current_version_id
    await pass_test(reader, db, mini_course, "basics")
    attempt = await db.scalar(select(Attempt).where(Attempt.user_id == learner.id))
    assert attempt is not None and attempt.passed
    old_quiz = await db.get(Quiz, attempt.quiz_id)
    assert old_quiz is not None and old_quiz.version_id == first_id
    read_before = await readings(db, learner)
    assert await course_page(reader) == (["テスト合格", "読了"], "60%")  # 2 readings + 1 test of 5 steps

    second_id = await publish(admin_client, with_new_lesson(revised()), reread=False)
    assert await run_jobs(app) == 1  # the standings' recompute, enqueued with the publication

    # responses changed but keeps its slug, so its reading still counts; the new lesson is simply not started
    assert await course_page(reader) == (["テスト合格", "読了", "未受講"], "50%")
    assert await standing(db, learner, mini_course) == (2, 50)  # refreshed by the job, not at the next visit
    await db.refresh(attempt)
    assert attempt.quiz_id == old_quiz.id
    assert await readings(db, learner) == read_before
    result = await reader.get(f"/attempts/{attempt.id}")
    assert result.status_code == 200 and "合格です。" in page_text(result.text)
    assert "判断の2つの軸は?" in page_text(result.text)  # the questions of version 1, as answered
    stale = await reader.post(f"/quizzes/{old_quiz.id}/attempts")
    assert stale.status_code == 409  # a new attempt is taken on the current version's test

    rolled_back = await admin_client.post(f"/admin/content/versions/{first_id}/rollback")

    assert rolled_back.status_code == 303
    assert await run_jobs(app) == 1
    assert await course_page(reader) == (["テスト合格", "読了"], "60%")
    assert await standing(db, learner, mini_course) == (2, 60)
    await db.refresh(attempt)
    assert attempt.quiz_id == old_quiz.id
    assert (await reader.get(f"/attempts/{attempt.id}")).status_code == 200
    assert await readings(db, learner) == read_before
    assert [v.id for v in await versions_of(db, mini_course.id)] == [first_id, second_id]


async def test_publishing_with_reread_sends_readers_back_to_changed_lessons_only(
    app,
    admin_client: httpx.AsyncClient,
    reader: httpx.AsyncClient,
    db: AsyncSession,
    mini_course: Course,
    learner: User,
) -> None:
    assert await course_page(reader) == (["読了", "読了"], "40%")
    assert await standing(db, learner, mini_course) == (2, 40)

    second_id = await publish(admin_client, revised(), reread=True)
    await run_jobs(app)

    _first, second = await versions_of(db, mini_course.id)
    assert second.id == second_id and second.reread_slugs == ["responses"]
    assert await standing(db, learner, mini_course) == (1, 20)  # the dashboards see it once the job ran
    assert await course_page(reader) == (["読了", "要再読"], "20%")
    lesson = parse(await reader.get("/courses/mini-course/lessons/responses"))
    assert RESPONSES_NEW.strip() in text_of(lesson.select_one(".lesson-body"))
    assert lesson.select_one("#read-state form button").get_text() == "読了にする"
    assert text_of(lesson.select_one("#read-state .alert-info")).startswith("このレッスンは内容が改訂されました")
    history = parse(await admin_client.get(f"/admin/content/courses/{mini_course.id}"))
    assert [text_of(badge) for badge in history.select(".badge-reread")] == ["再読を要求: responses"]

    await read(reader, "responses")

    assert await course_page(reader) == (["読了", "読了"], "40%")
    assert await standing(db, learner, mini_course) == (2, 40)

    # a later change published without re-reading leaves every reading counting
    third_id = await publish(admin_client, edited(revised(), RESPONSES_FILE, "30分", "20分"), reread=False)
    *_, third = await versions_of(db, mini_course.id)
    assert third.id == third_id and third.reread_slugs == []
    assert await course_page(reader) == (["読了", "読了"], "40%")
    assert await standing(db, learner, mini_course) == (2, 40)


async def test_publishing_without_reread_keeps_every_reading(
    admin_client: httpx.AsyncClient,
    reader: httpx.AsyncClient,
    db: AsyncSession,
    mini_course: Course,
    learner: User,
) -> None:
    await publish(admin_client, revised(), reread=False)

    _first, second = await versions_of(db, mini_course.id)
    assert second.reread_slugs == [] and second.reread_since == {}
    assert await course_page(reader) == (["読了", "読了"], "40%")
    assert await standing(db, learner, mini_course) == (2, 40)


async def test_unchanged_lessons_are_never_to_be_reread(
    admin_client: httpx.AsyncClient, reader: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    await publish(admin_client, revised(), reread=True)
    await publish(admin_client, revised(), reread=True)  # the same text again

    _first, second, third = await versions_of(db, mini_course.id)
    # basics holds an image whose URL names the version: that alone is no change to its text
    assert (second.reread_slugs, third.reread_slugs) == (["responses"], [])
    # basics is never to be read again; responses still is, as version 2 asked and nobody has re-read it yet
    assert await course_page(reader) == (["読了", "要再読"], "20%")
    await read(reader, "responses")
    assert await course_page(reader) == (["読了", "読了"], "40%")


async def test_a_completion_never_moves_when_lessons_must_be_reread(
    admin_client: httpx.AsyncClient,
    reader: httpx.AsyncClient,
    db: AsyncSession,
    mini_course: Course,
    learner: User,
) -> None:
    for slug in ("basics", "responses", None):
        await pass_test(reader, db, mini_course, slug)
    completion = await db.scalar(select(CourseCompletion).where(CourseCompletion.user_id == learner.id))
    assert completion is not None

    await publish(admin_client, revised(), reread=True)

    page = parse(await reader.get("/courses/mini-course"))
    assert text_of(page.select_one(".progress-label")) == "100%"
    assert text_of(page.select_one("main [role=status]")).startswith("このコースを修了しました。")
    rows = (await db.scalars(select(CourseCompletion).execution_options(populate_existing=True))).all()
    assert [(row.id, row.completed_at) for row in rows] == [(completion.id, completion.completed_at)]
