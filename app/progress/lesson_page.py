"""The signed-in lesson page, the learner's busiest page, in one read: the course's current version and the
learner's reading of this one lesson (with their training cycle) come back in a single row, and the lesson itself
from the worker's cache of published versions. A repeat view writes nothing; the first view of a lesson in a
training cycle records the visit and moves the learner's standing (activity.visit_lesson)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.content import service as content_service
from app.content.models import Course, CourseVersion
from app.content.published import PublishedVersion, published_version
from app.core.errors import NotFound
from app.core.sqlite_driver import INLINE_READ
from app.enrolments.cycles import in_cycle
from app.enrolments.models import Enrollment
from app.lessons import service as lessons_service
from app.lessons.models import Lesson
from app.progress import activity, rules
from app.progress.models import LessonProgress
from app.quiz.models import Quiz


@dataclass(frozen=True)
class LessonRow:
    """What the page shows of the learner's standing in this lesson (the 読了 card)."""

    state: rules.Reading
    quiz: Quiz | None
    seconds_spent: int = 0  # against the course's minimum reading time


@dataclass(frozen=True)
class CourseHeading:
    """What the page shows of the course (the breadcrumb and links)."""

    course: Course
    version: CourseVersion


@dataclass(frozen=True)
class LessonPage:
    p: CourseHeading
    lesson: Lesson
    row: LessonRow | None  # None for an appendix: read when needed, not part of the course's progress
    previous: Lesson | None
    following: Lesson | None


def _one_read() -> Select[Any]:
    """Built once, and on the tables rather than the mapped classes: a statement built per request costs
    SQLAlchemy more (its cache key) than running it does, and a Core select skips the ORM's result handling."""
    course, progress, enrolment = Course.__table__, LessonProgress.__table__, Enrollment.__table__
    current = CourseVersion.__table__.alias("current_version")
    read_version = CourseVersion.__table__.alias("read_version")
    user_id = bindparam("user_id")
    progress_of_lesson = and_(
        progress.c.user_id == user_id,
        progress.c.course_id == course.c.id,
        progress.c.lesson_slug == bindparam("lesson_slug"),
    )
    return (
        select(
            course.c.id,
            course.c.slug,
            course.c.current_version_id,
            course.c.min_reading_seconds,
            current.c.published_at,
            progress.c.last_opened_at,
            progress.c.seconds_spent,
            progress.c.read_at,
            read_version.c.number.label("read_number"),
            enrolment.c.cycle_started_at,
        )
        .join(current, current.c.id == course.c.current_version_id)
        .outerjoin(progress, progress_of_lesson)
        .outerjoin(read_version, read_version.c.id == progress.c.read_version_id)
        .outerjoin(enrolment, and_(enrolment.c.user_id == user_id, enrolment.c.course_id == course.c.id))
        .where(course.c.slug == bindparam("course_slug"))
        .execution_options(**INLINE_READ)  # one row by keys: cheaper on the loop than a trip to SQLite's thread
    )


ONE_READ = _one_read()


async def lesson_page(session: AsyncSession, *, user_id: int, course_slug: str, lesson_slug: str) -> LessonPage:
    params = {"user_id": user_id, "course_slug": course_slug, "lesson_slug": lesson_slug}
    found = (await session.execute(ONE_READ, params)).first()
    if found is None:
        raise NotFound("コースが見つかりません。")
    published: PublishedVersion = await published_version(
        session, version_id=found.current_version_id, published_at=found.published_at
    )
    lesson = published.lesson(lesson_slug)
    read_at, read_number, cycle_start = found.read_at, found.read_number or 0, found.cycle_started_at
    if not in_cycle(found.last_opened_at, cycle_start):
        # The first view of this lesson in the learner's training cycle: record it and move the standing.
        course, version = await content_service.get_course_by_id(session, course_id=found.id)
        progress = await activity.visit_lesson(
            session, user_id=user_id, course=course, version=version, lesson_slug=lesson.slug
        )
        row = next((r for r in progress.lessons if r.lesson.slug == lesson.slug), None)
        reading = rules.Reading(row.state.read, row.state.reread_required) if row else None
    else:
        since = published.version.reread_since.get(lesson.slug)
        reading = None if lesson.is_appendix else rules.reading(read_at, read_number, since, cycle_start)
    course_row = Course(
        id=found.id,
        slug=found.slug,
        current_version_id=found.current_version_id,
        min_reading_seconds=found.min_reading_seconds,
    )
    previous, following = lessons_service.neighbours(list(published.lessons), lesson.slug)
    return LessonPage(
        p=CourseHeading(course_row, published.version),
        lesson=lesson,
        row=None
        if reading is None
        else LessonRow(reading, published.quizzes.get(lesson.slug), found.seconds_spent or 0),
        previous=previous,
        following=following,
    )
