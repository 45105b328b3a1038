"""The learner's busiest requests stay a handful of statements: an answer's autosave reads the session and the
attempt and writes the answer (the test's questions come from the worker's cache, never the database), and a
submission claims, stores, counts and moves the standing without re-reading what it already has."""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.content.models import Course
from app.quiz.models import Attempt, AttemptAnswer
from tests.core.test_db_drivers import trips_to_sqlite_thread
from tests.learner.test_quiz_routes import quiz_for
from tests.quiz.helpers import answer_fields, start


@contextmanager
def statements(app) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", record)


async def test_autosave_is_three_statements_and_never_reads_the_question_bank(
    app, learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    quiz = await quiz_for(db, mini_course, "basics")
    attempt_id = await start(learner_client, quiz.id)
    fields = await answer_fields(db, attempt_id, correct=True)
    name, values = next(iter(fields.items()))
    question_id = name.split(".")[1]
    await learner_client.post(f"/attempts/{attempt_id}/answers/{question_id}", data={name: values})  # warm cache
    with statements(app) as seen:
        saved = await learner_client.post(f"/attempts/{attempt_id}/answers/{question_id}", data={name: values})
    assert saved.status_code == 200
    assert len(seen) == 3, seen  # the session with its user; the attempt with its version; the answer
    assert seen[-1].startswith("INSERT INTO attempt_answers")
    assert not [sql for sql in seen if "quizzes.questions" in sql], seen


async def test_a_submission_is_a_handful_of_statements_and_stores_every_answer_graded_once(
    app, learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    quiz = await quiz_for(db, mini_course, "basics")
    attempt_id = await start(learner_client, quiz.id)
    fields = await answer_fields(db, attempt_id, correct=True)
    assert (await learner_client.get(f"/attempts/{attempt_id}")).status_code == 200  # the page, as a learner sees
    with statements(app) as seen:
        submitted = await learner_client.post(f"/attempts/{attempt_id}/submit", data=fields)
    assert submitted.status_code == 303
    assert len(seen) <= 15, "\n".join(seen)
    assert not [sql for sql in seen if "quizzes.questions" in sql]  # the bank comes from the cache
    assert len([sql for sql in seen if sql.startswith("UPDATE attempts")]) == 1  # claim and score together
    attempt = await db.get(Attempt, attempt_id, populate_existing=True)
    assert attempt is not None and attempt.submitted_at is not None and attempt.score == 100.0 and attempt.passed
    answers = list(await db.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id)))
    assert len(answers) == len(attempt.paper) and all(a.is_correct and a.credit == 1.0 for a in answers)

    with statements(app) as again:  # a double click: refused by the claim, nothing written
        repeated = await learner_client.post(f"/attempts/{attempt_id}/submit", data=fields)
    assert repeated.status_code == 303
    assert not [sql for sql in again if sql.startswith(("INSERT", "DELETE"))], again


async def test_on_sqlite_a_repeat_lesson_view_never_leaves_the_event_loop(
    app, learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course, monkeypatch
) -> None:
    """Both of its reads are by key and run on the loop (INLINE_READ); with nothing written there is no COMMIT,
    and the pool's reset of the connection has no transaction to roll back: no hand-off to aiosqlite's thread."""
    if db.bind.dialect.name != "sqlite":
        pytest.skip("SQLite's driver thread")
    page = "/courses/mini-course/lessons/basics"
    assert (await learner_client.get(page)).status_code == 200  # the first view records the visit
    with trips_to_sqlite_thread(monkeypatch) as trips, statements(app) as seen:
        assert (await learner_client.get(page)).status_code == 200
    assert len(seen) == 2, seen
    assert trips == [], trips


async def test_a_submission_posted_as_multipart_scores_as_the_page_form_does(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    """The test page posts URL-encoded forms, read by the standard library's parser; another client's multipart
    body goes through Starlette's and must grade the same."""
    quiz = await quiz_for(db, mini_course, "basics")
    attempt_id = await start(learner_client, quiz.id)
    fields = await answer_fields(db, attempt_id, correct=True)
    multipart = [(name, (None, value.encode())) for name, values in fields.items() for value in values]
    submitted = await learner_client.post(f"/attempts/{attempt_id}/submit", files=multipart)
    assert submitted.status_code == 303
    attempt = await db.get(Attempt, attempt_id, populate_existing=True)
    assert attempt is not None and attempt.score == 100.0 and attempt.passed


async def test_a_submission_with_more_fields_than_any_test_is_refused_and_stores_nothing(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    quiz = await quiz_for(db, mini_course, "basics")
    attempt_id = await start(learner_client, quiz.id)
    fields = await answer_fields(db, attempt_id, correct=True)
    flood = {**fields, **{f"q.flood{n}.choice": ["a"] for n in range(1001)}}
    refused = await learner_client.post(f"/attempts/{attempt_id}/submit", data=flood)
    assert refused.status_code == 422
    assert "回答の項目が多すぎます" in refused.text
    attempt = await db.get(Attempt, attempt_id, populate_existing=True)
    assert attempt is not None and attempt.submitted_at is None
    assert not list(await db.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id)))
    submitted = await learner_client.post(f"/attempts/{attempt_id}/submit", data=fields)  # the real form still works
    assert submitted.status_code == 303
