"""Each worker caches published course versions (app/content/published.py): what it serves is exactly what the
database holds, a new publication is a new key (nothing to invalidate), a rollback serves the earlier version, and
a draft is never cached."""

import shutil
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authoring import drafts
from app.authoring.publication import rollback
from app.authoring.schemas import Source
from app.content import service as content_service
from app.content.models import Course, CourseVersion
from app.content.pack import load_pack
from app.content.published import VersionCache, versions
from app.lessons.models import Lesson
from app.quiz.models import Quiz
from tests.conftest import MINI_COURSE, run_jobs


def _columns(row: object, model: type) -> dict:
    return {column.key: getattr(row, column.key) for column in model.__mapper__.column_attrs}


async def test_the_cached_version_is_what_the_database_holds(db: AsyncSession, mini_course: Course) -> None:
    _course, version = await content_service.get_course(db, slug=mini_course.slug)
    cache = VersionCache()
    cached = await cache.get(db, version_id=version.id, published_at=version.published_at)
    assert _columns(cached.version, CourseVersion) == _columns(version, CourseVersion)
    lessons = list(await db.scalars(select(Lesson).where(Lesson.version_id == version.id).order_by(Lesson.position)))
    assert [_columns(lesson, Lesson) for lesson in cached.lessons] == [_columns(lesson, Lesson) for lesson in lessons]
    assert lessons and all(lesson.html for lesson in cached.lessons)
    quizzes = list(await db.scalars(select(Quiz).where(Quiz.version_id == version.id)))
    assert {q.id: _columns(q, Quiz) for q in quizzes} == {q.id: _columns(q, Quiz) for q in cached.quizzes.values()}
    for quiz in quizzes:
        bank = cached.test(quiz.id).bank
        assert set(bank.definitions) == {record["def"]["id"] for record in quiz.questions}
        assert set(bank.parsed) == set(bank.definitions)
    # A second read is a hit: the same object, no statements.
    assert await cache.get(db, version_id=version.id, published_at=version.published_at) is cached
    assert (cache.hits, cache.misses) == (1, 1)


async def test_a_new_publication_is_served_at_once_and_a_rollback_serves_the_earlier_version(
    app, db: AsyncSession, learner_client: httpx.AsyncClient, mini_course: Course, tmp_path: Path
) -> None:
    page_url = f"/courses/{mini_course.slug}/lessons/basics"
    before = await learner_client.get(page_url)
    assert before.status_code == 200 and "第2版で書き直した本文" not in before.text
    first_version_id = mini_course.current_version_id

    pack = tmp_path / "pack"
    shutil.copytree(MINI_COURSE, pack)
    lesson_file = next((pack / "lessons").glob("*basics*.md"))
    rewritten = lesson_file.read_text(encoding="utf-8") + "\n\n第2版で書き直した本文です。\n"
    lesson_file.write_text(rewritten, encoding="utf-8")
    await drafts.import_pack(db, pack=load_pack(pack))
    await db.commit()
    await run_jobs(app)
    after = await learner_client.get(page_url)
    assert after.status_code == 200 and "第2版で書き直した本文" in after.text

    await rollback(db, version_id=first_version_id, actor=None, source=Source.CLI)
    await db.commit()
    back = await learner_client.get(page_url)
    assert back.status_code == 200 and "第2版で書き直した本文" not in back.text


async def test_a_draft_is_read_afresh_and_never_kept(db: AsyncSession, mini_course: Course) -> None:
    draft = await drafts.import_pack(db, pack=load_pack(MINI_COURSE), publish=False)
    assert draft is not None and draft.published_at is None
    cache = VersionCache()
    loaded = await cache.get(db, version_id=draft.id, published_at=None)
    assert loaded.version.id == draft.id and len(cache) == 0
    assert versions.max_entries >= 1
