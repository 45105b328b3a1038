"""A learner's activity in a course: opening and reading lessons, time spent reading. Each first time is
counted (app.counters) and may move the learner's standing (standing.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.content.models import Course, CourseVersion
from app.core.db import insert_or_update, utcnow
from app.core.errors import InvalidInput
from app.counters import service as counters
from app.enrolments.cycles import cycle_started_at
from app.progress import rules
from app.progress.models import CourseStatus, LessonProgress, LessonReading
from app.progress.standing import CourseProgress, refresh, version_numbers

MAX_SECONDS_PER_BEAT = 60
# A beat counts only this long after the previous one (the page beats every 30 s): two open tabs, a replayed
# request or a script posting beats in a loop cannot make an hour of reading out of a minute.
BEAT_SLACK_SECONDS = 5


def _one_lesson(user_id: int, course_id: int, lesson_slug: str) -> tuple[ColumnElement[bool], ...]:
    """The conditions that pick one learner's progress row for one lesson."""
    return (
        LessonProgress.user_id == user_id,
        LessonProgress.course_id == course_id,
        LessonProgress.lesson_slug == lesson_slug,
    )


async def open_lesson(session: AsyncSession, *, user_id: int, course_id: int, lesson_slug: str) -> bool:
    """Record a visit to a lesson; True the first time this learner opens it."""
    now = utcnow()
    first_time = await insert_or_update(
        session,
        LessonProgress,
        values={
            "user_id": user_id,
            "course_id": course_id,
            "lesson_slug": lesson_slug,
            "first_opened_at": now,
            "last_opened_at": now,
            "seconds_spent": 0,
        },
        conflict_columns=["user_id", "course_id", "lesson_slug"],
    )
    if first_time:
        await counters.count_lesson_event(
            session, course_id=course_id, user_id=user_id, lesson_slug=lesson_slug, event="opened"
        )
    else:
        await session.execute(
            update(LessonProgress).where(*_one_lesson(user_id, course_id, lesson_slug)).values(last_opened_at=now)
        )
        await session.execute(
            update(CourseStatus)
            .where(
                CourseStatus.user_id == user_id,
                CourseStatus.course_id == course_id,
                CourseStatus.started_at.is_not(None),
            )
            .values(last_activity_at=now)
        )
    return bool(first_time)


async def visit_lesson(
    session: AsyncSession, *, user_id: int, course: Course, version: CourseVersion, lesson_slug: str
) -> CourseProgress:
    """Record the first view of a lesson in the learner's training cycle and return their standing with it: the
    first ever counts the lesson as opened, and either may start the course. Later views write nothing (the lesson
    page reads them, app/progress/lesson_page.py), and while the page is open its heartbeat keeps
    last_opened_at current."""
    await open_lesson(session, user_id=user_id, course_id=course.id, lesson_slug=lesson_slug)
    return await refresh(session, user_id=user_id, course=course, version=version)


async def mark_read(session: AsyncSession, *, user_id: int, course_id: int, lesson_slug: str, version_id: int) -> None:
    """Record that the lesson was read. The first reading is kept, unless the current version asked for the
    lesson to be read again since: then this reading replaces the outdated one."""
    await open_lesson(session, user_id=user_id, course_id=course_id, lesson_slug=lesson_slug)
    since = (await session.scalar(select(CourseVersion.reread_since).where(CourseVersion.id == version_id)) or {}).get(
        lesson_slug
    )
    cycle_start = await cycle_started_at(session, user_id=user_id, course_id=course_id)
    if cycle_start is not None:
        # A reading from an earlier training cycle is replaced by this one (and counts again in the statistics).
        await session.execute(
            update(LessonProgress)
            .where(*_one_lesson(user_id, course_id, lesson_slug), LessonProgress.read_at < cycle_start)
            .values(read_at=None)
        )
    reread = None
    if since:
        numbers = await version_numbers(session, course_id=course_id)
        outdated = [vid for vid, number in numbers.items() if not rules.reading_counts(number, since)]
        reread = await session.execute(
            update(LessonProgress)
            .where(
                *_one_lesson(user_id, course_id, lesson_slug),
                LessonProgress.read_at.is_not(None),
                or_(LessonProgress.read_version_id.is_(None), LessonProgress.read_version_id.in_(outdated)),
            )
            .values(read_at=utcnow(), read_version_id=version_id)
        )
    first_read = await session.execute(
        update(LessonProgress)
        .where(
            *_one_lesson(user_id, course_id, lesson_slug),
            LessonProgress.read_at.is_(None),
        )
        .values(read_at=utcnow(), read_version_id=version_id)
    )
    if first_read.rowcount == 1:
        await counters.count_lesson_event(
            session, course_id=course_id, user_id=user_id, lesson_slug=lesson_slug, event="read"
        )
    if first_read.rowcount == 1 or (reread is not None and reread.rowcount == 1):
        # The reading that counts from now on, kept for good: lesson_progress holds only the latest one.
        session.add(
            LessonReading(
                user_id=user_id, course_id=course_id, lesson_slug=lesson_slug, version_id=version_id, read_at=utcnow()
            )
        )
        await session.flush()


class ReadTooSoon(InvalidInput):
    """読了 before the course's minimum reading time: nothing recorded; `remaining` seconds still to read."""

    def __init__(self, remaining: int) -> None:
        self.remaining = remaining
        super().__init__(f"読了にするには、このレッスンをあと約{_duration(remaining)}開いて読んでください。")


def _duration(seconds: int) -> str:
    minutes, rest = divmod(max(seconds, 0), 60)
    if not minutes:
        return f"{rest}秒"
    return f"{minutes}分" + (f"{rest}秒" if rest else "")


async def read_lesson(
    session: AsyncSession, *, user_id: int, course: Course, version: CourseVersion, lesson_slug: str
) -> CourseProgress:
    """読了にする: record the reading, then the learner's standing with it (completion, counters, certificate).
    With a minimum reading time set for the course, a lesson open for less is refused (ReadTooSoon), and a
    lesson already read stays read."""
    if course.min_reading_seconds:
        row = (
            await session.execute(
                select(LessonProgress.seconds_spent, LessonProgress.read_at).where(
                    *_one_lesson(user_id, course.id, lesson_slug)
                )
            )
        ).first()
        spent, already_read = (row.seconds_spent, row.read_at is not None) if row else (0, False)
        if not already_read and spent < course.min_reading_seconds:
            raise ReadTooSoon(course.min_reading_seconds - spent)
    await mark_read(session, user_id=user_id, course_id=course.id, lesson_slug=lesson_slug, version_id=version.id)
    return await refresh(session, user_id=user_id, course=course, version=version)


async def add_reading_time(
    session: AsyncSession, *, user_id: int, course_id: int, lesson_slug: str, seconds: int
) -> None:
    """Add time from the page's heartbeat, capped so a forged beat cannot add hours, and only once the time it
    claims has passed since the last beat that counted (the clock is the server's, not the page's)."""
    seconds = max(0, min(seconds, MAX_SECONDS_PER_BEAT))
    now = utcnow()
    due = now - timedelta(seconds=max(0, seconds - BEAT_SLACK_SECONDS))
    await session.execute(
        update(LessonProgress)
        .where(
            *_one_lesson(user_id, course_id, lesson_slug),
            or_(LessonProgress.last_opened_at.is_(None), LessonProgress.last_opened_at <= due),
        )
        .values(seconds_spent=LessonProgress.seconds_spent + seconds, last_opened_at=now)
    )
