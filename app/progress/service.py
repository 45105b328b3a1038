"""Lesson progress, course progress and completion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.authoring.events import CurrentVersionChanged
from app.content import service as content_service
from app.content.models import Course, CourseVersion
from app.core.db import insert_or_update, utcnow
from app.counters import service as counters
from app.enrolments.cycles import cycle_started_at, in_cycle
from app.enrolments.models import Enrollment
from app.lessons.models import Lesson
from app.progress import rules
from app.progress.models import CourseCompletion, CourseStatus, LessonProgress, LessonReading
from app.quiz.models import Quiz
from app.quiz.service import QuizSummary

MAX_SECONDS_PER_BEAT = 60
# A repeat visit within this time writes nothing: while the page is open its heartbeat keeps last_opened_at
# current, and a lesson page that is a pure read does not queue behind other writers (SQLite has one writer).
VISIT_TOUCH_INTERVAL = timedelta(minutes=5)


@dataclass
class LessonRow:
    lesson: Lesson
    state: rules.LessonState
    quiz: Quiz | None
    summary: QuizSummary | None
    seconds_spent: int

    @property
    def status_label(self) -> str:
        return rules.STATUS_LABELS[self.state.status]


@dataclass
class CourseProgress:
    course: Course
    version: CourseVersion
    lessons: list[LessonRow]
    appendices: list[Lesson]
    final_quiz: Quiz | None
    final_summary: QuizSummary | None
    percent: int
    next_step: rules.NextStep
    completed_at: datetime | None
    due_at: datetime | None


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
        session, LessonProgress,
        values={"user_id": user_id, "course_id": course_id, "lesson_slug": lesson_slug,
                "first_opened_at": now, "last_opened_at": now, "seconds_spent": 0},
        conflict_columns=["user_id", "course_id", "lesson_slug"],
    )  # fmt: skip
    if first_time:
        await counters.count_lesson_event(session, course_id=course_id, user_id=user_id, lesson_slug=lesson_slug,
                                       event="opened")  # fmt: skip
    else:
        await session.execute(
            update(LessonProgress).where(*_one_lesson(user_id, course_id, lesson_slug)).values(last_opened_at=now)
        )
        await session.execute(
            update(CourseStatus)
            .where(CourseStatus.user_id == user_id, CourseStatus.course_id == course_id,
                   CourseStatus.started_at.is_not(None))
            .values(last_activity_at=now)
        )  # fmt: skip
    return bool(first_time)


async def visit_lesson(
    session: AsyncSession, *, user_id: int, course: Course, version: CourseVersion, lesson_slug: str
) -> CourseProgress:
    """Record a visit to a lesson page and return the learner's standing for it.

    The first visit counts the lesson as opened and may start the course (a full refresh of the standing); a
    later visit only moves the timestamps, and not at all within VISIT_TOUCH_INTERVAL of the last one."""
    last_opened = await session.scalar(select(LessonProgress.last_opened_at).where(
        *_one_lesson(user_id, course.id, lesson_slug)))  # fmt: skip
    if last_opened is None:
        await open_lesson(session, user_id=user_id, course_id=course.id, lesson_slug=lesson_slug)
        return await refresh(session, user_id=user_id, course=course, version=version)
    if utcnow() - last_opened >= VISIT_TOUCH_INTERVAL:
        await open_lesson(session, user_id=user_id, course_id=course.id, lesson_slug=lesson_slug)
    return await progress_for(session, user_id=user_id, course=course, version=version)


async def _version_numbers(session: AsyncSession, *, course_id: int) -> dict[int, int]:
    rows = await session.execute(
        select(CourseVersion.id, CourseVersion.number).where(CourseVersion.course_id == course_id)
    )
    return dict(rows.all())


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
        numbers = await _version_numbers(session, course_id=course_id)
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
        await counters.count_lesson_event(session, course_id=course_id, user_id=user_id, lesson_slug=lesson_slug,
                                       event="read")  # fmt: skip
    if first_read.rowcount == 1 or (reread is not None and reread.rowcount == 1):
        # The reading that counts from now on, kept for good: lesson_progress holds only the latest one.
        session.add(LessonReading(user_id=user_id, course_id=course_id, lesson_slug=lesson_slug,
                                  version_id=version_id, read_at=utcnow()))  # fmt: skip
        await session.flush()


async def read_lesson(
    session: AsyncSession, *, user_id: int, course: Course, version: CourseVersion, lesson_slug: str
) -> CourseProgress:
    """読了にする: record the reading, then the learner's standing with it (completion, counters, certificate)."""
    await mark_read(session, user_id=user_id, course_id=course.id, lesson_slug=lesson_slug, version_id=version.id)
    return await refresh(session, user_id=user_id, course=course, version=version)


async def add_reading_time(
    session: AsyncSession, *, user_id: int, course_id: int, lesson_slug: str, seconds: int
) -> None:
    """Add time from the page's heartbeat, capped so a forged beat cannot add hours."""
    seconds = max(0, min(seconds, MAX_SECONDS_PER_BEAT))
    await session.execute(
        update(LessonProgress)
        .where(*_one_lesson(user_id, course_id, lesson_slug))
        .values(seconds_spent=LessonProgress.seconds_spent + seconds, last_opened_at=utcnow())
    )


async def course_progress(
    session: AsyncSession,
    *,
    user_id: int,
    course: Course,
    version: CourseVersion,
    lessons: list[Lesson],
    quizzes: dict[str | None, Quiz],
    summaries: dict[str | None, QuizSummary],
) -> CourseProgress:
    enrollment = (await session.execute(
        select(Enrollment.due_at, Enrollment.cycle_started_at)
        .where(Enrollment.user_id == user_id, Enrollment.course_id == course.id)
    )).first()  # fmt: skip
    progress_rows = {
        row.lesson_slug: row
        for row in await session.scalars(
            select(LessonProgress).where(LessonProgress.user_id == user_id, LessonProgress.course_id == course.id)
        )
    }
    numbers = await _version_numbers(session, course_id=course.id) if version.reread_since else {}
    rows: list[LessonRow] = []
    for lesson in lessons:
        if lesson.is_appendix:
            continue
        progress = progress_rows.get(lesson.slug)
        summary = summaries.get(lesson.slug)
        read_number = numbers.get(progress.read_version_id or 0, 0) if progress else 0
        read_at = progress.read_at if progress else None
        counts = read_at is not None and rules.reading_counts(read_number, version.reread_since.get(lesson.slug))
        counts = counts and in_cycle(read_at, enrollment.cycle_started_at if enrollment else None)
        state = rules.LessonState(
            slug=lesson.slug,
            has_quiz=lesson.slug in quizzes,
            opened=progress is not None
            and in_cycle(progress.last_opened_at, enrollment.cycle_started_at if enrollment else None),
            read=counts,
            passed=bool(summary and summary.passed),
            reread_required=read_at is not None and not counts,
        )
        rows.append(LessonRow(lesson, state, quizzes.get(lesson.slug), summary,
                              progress.seconds_spent if progress else 0))  # fmt: skip
    final_quiz = quizzes.get(None)
    final_summary = summaries.get(None)
    final_passed = bool(final_summary and final_summary.passed)
    states = [row.state for row in rows]
    completion = await session.scalar(
        select(CourseCompletion.completed_at).where(
            CourseCompletion.user_id == user_id, CourseCompletion.course_id == course.id
        )
    )
    due_at = enrollment.due_at if enrollment else None
    return CourseProgress(
        course=course,
        version=version,
        lessons=rows,
        appendices=[lesson for lesson in lessons if lesson.is_appendix],
        final_quiz=final_quiz,
        final_summary=final_summary,
        percent=100 if completion else rules.progress_percent(
            version.completion, states, has_final=final_quiz is not None, final_passed=final_passed),
        next_step=rules.next_step(states, has_final=final_quiz is not None, final_passed=final_passed),
        completed_at=completion,
        due_at=due_at,
    )  # fmt: skip


async def record_completion_if_met(session: AsyncSession, *, user_id: int, progress: CourseProgress) -> bool:
    """Write the completion once, the first time the rule is met; later calls change nothing."""
    if progress.completed_at is not None:
        return False
    states = [row.state for row in progress.lessons]
    final_passed = bool(progress.final_summary and progress.final_summary.passed)
    if not rules.is_complete(progress.version.completion, states,
                             has_final=progress.final_quiz is not None, final_passed=final_passed):  # fmt: skip
        return False
    inserted = await insert_or_update(
        session, CourseCompletion,
        values={"user_id": user_id, "course_id": progress.course.id, "version_id": progress.version.id,
                "completed_at": utcnow()},
        conflict_columns=["user_id", "course_id"],
    )  # fmt: skip
    return inserted == 1


def _status_values(user_id: int, progress: CourseProgress) -> dict[str, object]:
    summaries = [row.summary for row in progress.lessons if row.summary] + (
        [progress.final_summary] if progress.final_summary else []
    )
    best_scores = [summary.best_score for summary in summaries if summary.best_score is not None]
    started = any(row.state.opened for row in progress.lessons) or bool(summaries)
    now = utcnow()
    return {
        "user_id": user_id,
        "course_id": progress.course.id,
        "percent": progress.percent,
        "lessons_read": sum(1 for row in progress.lessons if row.state.read),
        "tests_passed": sum(1 for row in progress.lessons if row.state.passed)
        + (1 if progress.final_summary and progress.final_summary.passed else 0),
        # The mean of the learner's best score on each test they have taken.
        "best_score": round(sum(best_scores) / len(best_scores), 1) if best_scores else None,
        "attempts": sum(summary.attempts for summary in summaries),
        "started_at": now if started else None,
        "last_activity_at": now if started else None,
        "completed_at": progress.completed_at,
    }


async def refresh(session: AsyncSession, *, user_id: int, course: Course, version: CourseVersion) -> CourseProgress:
    """Recompute a learner's standing after an activity: record completion once, keep course_status current,
    and move the dashboard's roster counters by what changed."""
    from app.certificates import service as certificates_service

    progress = await progress_for(session, user_id=user_id, course=course, version=version)
    completed_now = await record_completion_if_met(session, user_id=user_id, progress=progress)
    if completed_now:
        progress = await progress_for(session, user_id=user_id, course=course, version=version)
        await counters.count_completion(session, course_id=course.id, user_id=user_id, when=progress.completed_at)
        await certificates_service.issue(session, user_id=user_id, course=course, version=version,
                                         completed_at=progress.completed_at)  # type: ignore[arg-type]  # fmt: skip
    before = (await session.execute(
        select(CourseStatus.started_at, CourseStatus.best_score)
        .where(CourseStatus.user_id == user_id, CourseStatus.course_id == course.id)
    )).first()  # fmt: skip
    values = _status_values(user_id, progress)
    update_columns = [name for name in values if name not in ("user_id", "course_id", "started_at")]
    if values["started_at"] is None:
        update_columns.remove("last_activity_at")
    await insert_or_update(
        session, CourseStatus, values=values, conflict_columns=["user_id", "course_id"], update_columns=update_columns
    )
    # started_at is kept from the first activity; the UPDATE that sets it is the one that counts the start.
    started_now = 0
    if values["started_at"] is not None:
        if before is None:
            started_now = 1
        else:
            set_start = await session.execute(
                update(CourseStatus)
                .where(CourseStatus.user_id == user_id, CourseStatus.course_id == course.id,
                       CourseStatus.started_at.is_(None))
                .values(started_at=values["started_at"])
            )  # fmt: skip
            started_now = set_start.rowcount
    old_score = before.best_score if before else None
    new_score = values["best_score"]
    await counters.adjust_roster(
        session, course_id=course.id, user_id=user_id, started=started_now, completed=int(completed_now),
        score_sum=(new_score or 0.0) - (old_score or 0.0),
        score_count=int(new_score is not None) - int(old_score is not None),
    )  # fmt: skip
    return progress


async def enrolled_course_ids(session: AsyncSession, *, user_id: int) -> list[int]:
    result = await session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == user_id))
    return list(result)


async def progress_for(
    session: AsyncSession, *, user_id: int, course: Course, version: CourseVersion
) -> CourseProgress:
    """Everything a course page or マイ研修 card shows for one learner."""
    from app.lessons import service as lessons_service
    from app.quiz import service as quiz_service

    return await course_progress(
        session,
        user_id=user_id,
        course=course,
        version=version,
        lessons=await lessons_service.list_lessons(session, version_id=version.id, with_bodies=False),
        quizzes=await quiz_service.quizzes_of_version(session, version_id=version.id),
        summaries=await quiz_service.summaries(session, user_id=user_id, course_id=course.id),
    )


async def my_courses(session: AsyncSession, *, user_id: int) -> list[CourseProgress]:
    """The courses assigned to the learner, each with its progress, in assignment order."""
    enrolled = set(await enrolled_course_ids(session, user_id=user_id))
    return [
        await progress_for(session, user_id=user_id, course=course, version=version)
        for course, version in await content_service.list_courses(session)
        if course.id in enrolled
    ]


async def refresh_learners(session: AsyncSession, *, course_id: int) -> int:
    """Recompute the standing of every learner who has started and not completed the course against its current
    version, so dashboards reflect added, removed or to-be-reread lessons at once. Completions are history and
    never move."""
    course, version = await content_service.get_course_by_id(session, course_id=course_id)
    user_ids = list(
        await session.scalars(
            select(CourseStatus.user_id).where(CourseStatus.course_id == course.id, CourseStatus.completed_at.is_(None))
        )
    )
    for user_id in user_ids:
        await refresh(session, user_id=user_id, course=course, version=version)
    return len(user_ids)


async def follow_current_version(session: AsyncSession, event: CurrentVersionChanged) -> None:
    """Standings follow a course to its new current version (subscribed in app/subscriptions.py)."""
    await refresh_learners(session, course_id=event.course_id)
