"""Reading lessons of a course version."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from app.core.errors import NotFound
from app.lessons.models import Lesson


async def list_lessons(session: AsyncSession, *, version_id: int, with_bodies: bool = True) -> list[Lesson]:
    """The version's lessons in course order; without their rendered bodies when only titles and order are needed
    (every progress computation: the bodies of a whole course are most of what such a query would read)."""
    statement = select(Lesson).where(Lesson.version_id == version_id).order_by(Lesson.position)
    if not with_bodies:
        statement = statement.options(defer(Lesson.html, raiseload=True), defer(Lesson.toc, raiseload=True))
    return list(await session.scalars(statement))


async def get_lesson(session: AsyncSession, *, version_id: int, slug: str) -> Lesson:
    lesson = await session.scalar(select(Lesson).where(Lesson.version_id == version_id, Lesson.slug == slug))
    if lesson is None:
        raise NotFound("レッスンが見つかりません。")
    return lesson


def neighbours(lessons: list[Lesson], slug: str) -> tuple[Lesson | None, Lesson | None]:
    """Previous and next lesson in course order (appendices are not part of the sequence)."""
    sequence = [lesson for lesson in lessons if not lesson.is_appendix]
    slugs = [lesson.slug for lesson in sequence]
    if slug not in slugs:
        return None, None
    index = slugs.index(slug)
    previous = sequence[index - 1] if index > 0 else None
    following = sequence[index + 1] if index + 1 < len(sequence) else None
    return previous, following
