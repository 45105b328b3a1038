"""Published course versions, cached in each worker.

A published version never changes: its settings, lessons (rendered and sanitised) and tests are frozen when it is
published, and a later change is a new version with a new id. So each worker keeps what it has read, keyed by the
version's id and publication time (ids repeat across databases, e.g. in tests; the pair does not), with nothing to
invalidate and nothing another worker needs. Drafts are never cached: they change while they are edited.

The cached objects are transient ORM instances (built from plain rows, never attached to a session), so pages and
services read them exactly as they read loaded rows; nobody may change them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.content.models import CourseVersion
from app.core.errors import NotFound
from app.core.lru import Lru
from app.lessons.models import Lesson
from app.quiz.bank import QuestionBank, bank_of
from app.quiz.models import Quiz

# Enough for every version a company keeps published and rolls back to; a version that falls out is read again.
MAX_CACHED_VERSIONS = 128


@dataclass(frozen=True)
class PublishedQuiz:
    """A test of a published version with its questions parsed once (for forms and grading)."""

    quiz: Quiz
    bank: QuestionBank


@dataclass(frozen=True)
class PublishedVersion:
    version: CourseVersion
    lessons: tuple[Lesson, ...]  # in course order, with their bodies
    quizzes: Mapping[str | None, Quiz]  # by lesson slug; the final test under None
    tests: Mapping[int, PublishedQuiz]  # by quiz id

    def lesson(self, slug: str) -> Lesson:
        for lesson in self.lessons:
            if lesson.slug == slug:
                return lesson
        raise NotFound("レッスンが見つかりません。")

    def test(self, quiz_id: int) -> PublishedQuiz:
        found = self.tests.get(quiz_id)
        if found is None:
            raise NotFound("テストが見つかりません。")
        return found


def _transient(model: type[Any], row: Any) -> Any:
    return model(**dict(row._mapping))


async def load(session: AsyncSession, *, version_id: int) -> PublishedVersion:
    """Read a version with its lessons and tests (three statements), as plain rows: nothing enters the session."""
    row = (await session.execute(select(CourseVersion.__table__).where(CourseVersion.id == version_id))).first()
    if row is None:
        raise NotFound("コースの版が見つかりません。")
    lesson_rows = await session.execute(
        select(Lesson.__table__).where(Lesson.version_id == version_id).order_by(Lesson.position)
    )
    quiz_rows = await session.execute(select(Quiz.__table__).where(Quiz.version_id == version_id).order_by(Quiz.id))
    quizzes: list[Quiz] = [_transient(Quiz, quiz_row) for quiz_row in quiz_rows]
    return PublishedVersion(
        version=_transient(CourseVersion, row),
        lessons=tuple(_transient(Lesson, lesson_row) for lesson_row in lesson_rows),
        quizzes=MappingProxyType({quiz.lesson_slug: quiz for quiz in quizzes}),
        tests=MappingProxyType({quiz.id: PublishedQuiz(quiz, bank_of(quiz)) for quiz in quizzes}),
    )


class VersionCache:
    """Least recently used published versions. One event loop per worker: a miss that two requests meet at once
    is loaded twice and stored once, which is harmless because both read the same frozen rows."""

    def __init__(self, max_entries: int = MAX_CACHED_VERSIONS) -> None:
        self._entries: Lru[tuple[int, datetime], PublishedVersion] = Lru(max_entries)
        self.hits = 0
        self.misses = 0

    @property
    def max_entries(self) -> int:
        return self._entries.max_entries

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    async def get(self, session: AsyncSession, *, version_id: int, published_at: datetime | None) -> PublishedVersion:
        """The version as published; a draft (published_at None) is read afresh every time and not kept."""
        if published_at is None:
            return await load(session, version_id=version_id)
        key = (version_id, published_at)
        found = self._entries.get(key)
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        loaded = await load(session, version_id=version_id)
        if loaded.version.published_at != published_at:
            return loaded  # published (or re-read) between the caller's read and ours: serve it, keep nothing
        self._entries.put(key, loaded)
        return loaded


# One per worker process: every request of the worker shares it.
versions = VersionCache()


async def published_version(
    session: AsyncSession, *, version_id: int, published_at: datetime | None
) -> PublishedVersion:
    return await versions.get(session, version_id=version_id, published_at=published_at)


async def of_version(session: AsyncSession, *, version: CourseVersion) -> PublishedVersion:
    """The cached content of a version row the caller already holds."""
    return await versions.get(session, version_id=version.id, published_at=version.published_at)
