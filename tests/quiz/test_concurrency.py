"""Many requests for the same thing at the same moment, each from its own client with its own sign-in, each
served with its own database session: a submission is recorded once and an attempt is started once.

Run on SQLite locally and on PostgreSQL in CI (`-m db`), where the requests really overlap in the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import service as assignment_service
from app.auth import service as auth_service
from app.auth.deps import SESSION_COOKIE, cookie_serializer
from app.auth.models import User
from app.content.models import Course
from app.counters.models import LessonStat, QuestionStat, RosterStat
from app.org import service as org_service
from app.org.scope import EVERYTHING
from app.quiz import service as quiz_service
from app.quiz.models import Attempt, AttemptAnswer, Quiz
from tests.conftest import make_user
from tests.quiz.helpers import answer_fields, start

SUBMISSIONS = 50
STARTS = 20


@pytest.fixture
async def employee(db: AsyncSession, mini_course: Course) -> User:
    """A learner in a department, so the dashboard's counters count what they do."""
    user = await make_user(db, "employee@example.com")
    user.department_id = (await org_service.ensure_path(db, path="本社/営業部")).id
    await assignment_service.assign(
        db, course_id=mini_course.id, scope=EVERYTHING, created_by=None, due_at=None, user_id=user.id
    )
    await db.commit()
    return user


@asynccontextmanager
async def signed_in_clients(app, db: AsyncSession, user: User, count: int) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`count` clients, each signed in on its own (as from separate tabs and devices), so no two requests share
    a cookie, a connection or a session."""
    serializer = cookie_serializer(app.state.settings)
    tokens = [await auth_service.start_session(db, user=user) for _ in range(count)]
    await db.commit()
    async with AsyncExitStack() as stack:
        clients = []
        for token in tokens:
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://testserver",
                cookies={SESSION_COOKIE: serializer.dumps(token)},
            )
            clients.append(await stack.enter_async_context(client))
        yield clients


async def quiz_for(db: AsyncSession, course: Course, lesson_slug: str | None) -> Quiz:
    await db.refresh(course)
    slug_is = Quiz.lesson_slug.is_(None) if lesson_slug is None else Quiz.lesson_slug == lesson_slug
    quiz = await db.scalar(select(Quiz).where(Quiz.version_id == course.current_version_id, slug_is))
    assert quiz is not None
    return quiz


async def total(db: AsyncSession, column) -> int:
    return int(await db.scalar(select(func.coalesce(func.sum(column), 0))) or 0)


async def test_fifty_simultaneous_submissions_of_one_attempt_are_recorded_once(
    app, db: AsyncSession, mini_course: Course, employee: User
) -> None:
    quiz = await quiz_for(db, mini_course, "basics")
    async with signed_in_clients(app, db, employee, SUBMISSIONS) as clients:
        attempt_id = await start(clients[0], quiz.id)
        fields = await answer_fields(db, attempt_id, correct=True)
        # The paper is open everywhere (which also fills the connection pool, as on a server that has been up a
        # while), then every client submits at once.
        pages = await asyncio.gather(*(client.get(f"/attempts/{attempt_id}") for client in clients))
        assert {page.status_code for page in pages} == {200}
        responses = await asyncio.gather(
            *(client.post(f"/attempts/{attempt_id}/submit", data=fields) for client in clients)
        )
        result_page = await clients[-1].get(f"/attempts/{attempt_id}")

    # The one that got there first and the 49 that found it already submitted all land on the result page.
    assert [(r.status_code, r.headers.get("location")) for r in responses] == [
        (303, f"/attempts/{attempt_id}")
    ] * SUBMISSIONS
    assert result_page.status_code == 200 and "合格です。" in result_page.text
    attempts = (await db.scalars(select(Attempt).where(Attempt.user_id == employee.id))).all()
    assert len(attempts) == 1
    attempt = attempts[0]
    assert attempt.submitted_at is not None and attempt.score == 100.0 and attempt.passed is True
    answers = (await db.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id))).all()
    questions = len(attempt.paper)
    assert sorted(a.question_id for a in answers) == sorted(entry["id"] for entry in attempt.paper)
    assert all(a.credit == 1.0 and a.is_correct for a in answers)
    # the dashboard's counters moved by one submission: each question answered once, one pass, one start
    assert await total(db, QuestionStat.answered) == questions
    assert await total(db, QuestionStat.correct) == questions
    assert await total(db, LessonStat.passed) == 1
    assert await total(db, RosterStat.started) == 1


@pytest.mark.parametrize(
    ("lesson_slug", "max_attempts"),
    [("basics", 2), (None, 2), ("responses", 0)],
    ids=["lesson-test-last-attempt", "final-test-last-attempt", "unlimited-attempts"],
)
async def test_twenty_simultaneous_starts_create_one_attempt(
    app, db: AsyncSession, mini_course: Course, employee: User, lesson_slug: str | None, max_attempts: int
) -> None:
    quiz = await quiz_for(db, mini_course, lesson_slug)
    quiz.max_attempts = max_attempts
    await db.commit()
    async with signed_in_clients(app, db, employee, STARTS) as clients:
        first = await start(clients[0], quiz.id)
        assert (await clients[0].post(f"/attempts/{first}/submit", data={"blanks": "confirmed"})).status_code == 303
        # The test's page is open everywhere (filling the connection pool), then every client starts at once.
        page = "/courses/mini-course/" + (f"lessons/{lesson_slug}/test" if lesson_slug else "final-test")
        assert {r.status_code for r in await asyncio.gather(*(client.get(page) for client in clients))} == {200}
        responses = await asyncio.gather(*(client.post(f"/quizzes/{quiz.id}/attempts") for client in clients))

    attempts = (
        await db.scalars(
            select(Attempt)
            .where(Attempt.user_id == employee.id)
            .order_by(Attempt.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    assert len(attempts) == 2
    second = attempts[1]
    assert second.id != first and second.submitted_at is None
    assert [a.attempt_number for a in attempts] == [1, 2]
    # Every request, the winner's and the losers', resumes that one attempt: none is refused, none fails.
    assert [(r.status_code, r.headers.get("location")) for r in responses] == [(303, f"/attempts/{second.id}")] * STARTS


async def test_starting_inside_a_unit_of_work_that_fails_leaves_no_attempt(
    app, db: AsyncSession, mini_course: Course, employee: User
) -> None:
    """The insert's savepoint is nested in the request's transaction: on SQLite too, where a SAVEPOINT opened
    outside a transaction would start one of its own and releasing it would commit the attempt on the spot."""
    quiz = await quiz_for(db, mini_course, "basics")
    async with app.state.sessionmaker() as session:
        attempt = await quiz_service.start_attempt(session, user_id=employee.id, course_id=mini_course.id, quiz=quiz)
        assert attempt.attempt_number == 1
        await session.rollback()
    assert await db.scalar(select(func.count()).select_from(Attempt)) == 0
