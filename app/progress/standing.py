"""A learner's standing in a course: what counts (readings and passed tests of the current cycle), completion
recorded once, `course_status` kept current with the roster counters, and the same for every learner of a course
when its current version moves."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.authoring.events import CurrentVersionChanged
from app.certificates import service as certificates_service
from app.content import service as content_service
from app.content.models import Course, CourseVersion
from app.content.published import of_version
from app.core.db import insert_or_update, utcnow
from app.counters import service as counters
from app.counters.service import UNKNOWN, Unknown
from app.enrolments.cycles import in_cycle
from app.enrolments.models import Enrollment
from app.jobs import queue
from app.jobs.context import JobContext
from app.jobs.registry import JobKind
from app.lessons.models import Lesson
from app.progress import rules
from app.progress.models import CourseCompletion, CourseStatus, LessonProgress
from app.quiz import service as quiz_service
from app.quiz.models import Quiz
from app.quiz.service import QuizSummary


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
    recorded: Recorded = field(default_factory=lambda: Recorded(False, None, None, False))


@dataclass(frozen=True)
class Recorded:
    """The learner's rows for the course as they were read with the progress: what refresh compares against."""

    enrolled: bool
    status_started_at: datetime | None
    status_best_score: float | None
    has_status: bool


READ_VERSION = aliased(CourseVersion, name="read_version")


def _one(column: Any, *where: Any) -> Any:
    return select(column).where(*where).limit(1).scalar_subquery()


def _learner_rows_statement() -> Any:
    user, course = bindparam("user_id"), bindparam("course_id")
    enrolment = (Enrollment.user_id == user, Enrollment.course_id == course)
    status = (CourseStatus.user_id == user, CourseStatus.course_id == course)
    completion = (CourseCompletion.user_id == user, CourseCompletion.course_id == course)
    return select(
        _one(Enrollment.id, *enrolment).label("enrollment_id"),
        _one(Enrollment.due_at, *enrolment).label("due_at"),
        _one(Enrollment.cycle_started_at, *enrolment).label("cycle_started_at"),
        _one(CourseCompletion.completed_at, *completion).label("completed_at"),
        _one(CourseStatus.id, *status).label("status_id"),
        _one(CourseStatus.started_at, *status).label("status_started_at"),
        _one(CourseStatus.best_score, *status).label("status_best_score"),
    )


# Built once and executed with new values: building a statement and its cache key cost more than running it on
# every submission and course page (docs/performance.md, issue 16, third round). Statements are immutable.
LEARNER_ROWS = _learner_rows_statement()
LESSON_READINGS = (
    select(
        LessonProgress.lesson_slug,
        LessonProgress.last_opened_at,
        LessonProgress.read_at,
        LessonProgress.seconds_spent,
        READ_VERSION.number.label("read_number"),
    )
    .outerjoin(READ_VERSION, READ_VERSION.id == LessonProgress.read_version_id)
    .where(LessonProgress.user_id == bindparam("user_id"), LessonProgress.course_id == bindparam("course_id"))
)


async def _learner_rows(session: AsyncSession, *, user_id: int, course_id: int) -> Any:
    """Enrolment, completion and standing row of one learner in one course: one statement, each read by its key."""
    return (await session.execute(LEARNER_ROWS, {"user_id": user_id, "course_id": course_id})).one()


async def version_numbers(session: AsyncSession, *, course_id: int) -> dict[int, int]:
    rows = await session.execute(
        select(CourseVersion.id, CourseVersion.number).where(CourseVersion.course_id == course_id)
    )
    return dict(rows.all())


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
    learner = await _learner_rows(session, user_id=user_id, course_id=course.id)
    progress_rows = {
        row.lesson_slug: row
        for row in await session.execute(LESSON_READINGS, {"user_id": user_id, "course_id": course.id})
    }
    rows: list[LessonRow] = []
    for lesson in lessons:
        if lesson.is_appendix:
            continue
        progress = progress_rows.get(lesson.slug)
        summary = summaries.get(lesson.slug)
        read_number = (progress.read_number or 0) if progress else 0
        cycle_start = learner.cycle_started_at
        reading = rules.reading(
            progress.read_at if progress else None, read_number, version.reread_since.get(lesson.slug), cycle_start
        )
        state = rules.LessonState(
            slug=lesson.slug,
            has_quiz=lesson.slug in quizzes,
            opened=progress is not None and in_cycle(progress.last_opened_at, cycle_start),
            read=reading.read,
            passed=bool(summary and summary.passed),
            reread_required=reading.reread_required,
        )
        rows.append(
            LessonRow(lesson, state, quizzes.get(lesson.slug), summary, progress.seconds_spent if progress else 0)
        )
    final_quiz = quizzes.get(None)
    final_summary = summaries.get(None)
    final_passed = bool(final_summary and final_summary.passed)
    states = [row.state for row in rows]
    completion = learner.completed_at
    due_at = learner.due_at
    return CourseProgress(
        course=course,
        version=version,
        lessons=rows,
        appendices=[lesson for lesson in lessons if lesson.is_appendix],
        final_quiz=final_quiz,
        final_summary=final_summary,
        percent=100
        if completion
        else rules.progress_percent(
            version.completion, states, has_final=final_quiz is not None, final_passed=final_passed
        ),
        next_step=rules.next_step(states, has_final=final_quiz is not None, final_passed=final_passed),
        completed_at=completion,
        due_at=due_at,
        recorded=Recorded(
            learner.enrollment_id is not None,
            learner.status_started_at,
            learner.status_best_score,
            learner.status_id is not None,
        ),
    )


async def record_completion_if_met(session: AsyncSession, *, user_id: int, progress: CourseProgress) -> datetime | None:
    """Write the completion once, the first time the rule is met; returns its time then, and None when the rule
    is not met or the completion was already recorded (later calls change nothing)."""
    if progress.completed_at is not None:
        return None
    states = [row.state for row in progress.lessons]
    final_passed = bool(progress.final_summary and progress.final_summary.passed)
    if not rules.is_complete(
        progress.version.completion, states, has_final=progress.final_quiz is not None, final_passed=final_passed
    ):
        return None
    completed_at = utcnow()
    inserted = await insert_or_update(
        session,
        CourseCompletion,
        values={
            "user_id": user_id,
            "course_id": progress.course.id,
            "version_id": progress.version.id,
            "completed_at": completed_at,
        },
        conflict_columns=["user_id", "course_id"],
    )
    return completed_at if inserted == 1 else None


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


async def refresh(
    session: AsyncSession,
    *,
    user_id: int,
    course: Course,
    version: CourseVersion,
    tally: counters.Tally | None = None,
    department_id: int | Unknown | None = UNKNOWN,
) -> CourseProgress:
    """Recompute a learner's standing after an activity: record completion once, keep course_status current,
    and move the dashboard's roster counters by what changed.

    A request that knows the learner (signed in, so active) passes their department, and a `tally` to which the
    completion is added for the caller to write with the rest of its counters; without them, both are looked up
    and written here (jobs, the command line)."""
    progress = await progress_for(session, user_id=user_id, course=course, version=version)
    completed_at = await record_completion_if_met(session, user_id=user_id, progress=progress)
    if completed_at is not None:
        progress = replace(progress, completed_at=completed_at, percent=100)
        if tally is not None and not isinstance(department_id, Unknown):
            if department_id is not None:
                tally.completion(department_id, completed_at)
        else:
            await counters.count_completion(session, course_id=course.id, user_id=user_id, when=completed_at)
        await certificates_service.issue(
            session, user_id=user_id, course=course, version=version, completed_at=completed_at
        )
    before = progress.recorded
    values = _status_values(user_id, progress)
    update_columns = [name for name in values if name not in ("user_id", "course_id", "started_at")]
    if values["started_at"] is None:
        update_columns.remove("last_activity_at")
    await insert_or_update(
        session, CourseStatus, values=values, conflict_columns=["user_id", "course_id"], update_columns=update_columns
    )
    # started_at is kept from the first activity; the write that sets it is the one that counts the start.
    started_now = 0
    if values["started_at"] is not None:
        if not before.has_status:
            started_now = 1
        elif before.status_started_at is None:
            set_start = await session.execute(
                update(CourseStatus)
                .where(
                    CourseStatus.user_id == user_id,
                    CourseStatus.course_id == course.id,
                    CourseStatus.started_at.is_(None),
                )
                .values(started_at=values["started_at"])
            )
            started_now = set_start.rowcount
    old_score = before.status_best_score if before.has_status else None
    new_score = values["best_score"]
    place: counters.RosterPlace | Unknown | None = UNKNOWN
    if not isinstance(department_id, Unknown):
        known = before.enrolled and department_id is not None
        place = counters.RosterPlace(department_id, progress.due_at) if known else None  # type: ignore[arg-type]
    await counters.adjust_roster(
        session,
        course_id=course.id,
        user_id=user_id,
        started=started_now,
        completed=int(completed_at is not None),
        score_sum=(new_score or 0.0) - (old_score or 0.0),
        score_count=int(new_score is not None) - int(old_score is not None),
        place=place,
    )
    return progress


async def enrolled_course_ids(session: AsyncSession, *, user_id: int) -> list[int]:
    result = await session.scalars(select(Enrollment.course_id).where(Enrollment.user_id == user_id))
    return list(result)


async def progress_for(
    session: AsyncSession, *, user_id: int, course: Course, version: CourseVersion
) -> CourseProgress:
    """Everything a course page or マイ研修 card shows for one learner."""

    published = await of_version(session, version=version)
    return await course_progress(
        session,
        user_id=user_id,
        course=course,
        version=version,
        lessons=list(published.lessons),
        quizzes=dict(published.quizzes),
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


RECOMPUTE_CHUNK = 200


async def _learners_to_refresh(session: AsyncSession, *, course_id: int, after: int, limit: int) -> list[int]:
    """Learners who have started and not completed the course, by id, after `after`."""
    return list(
        await session.scalars(
            select(CourseStatus.user_id)
            .where(
                CourseStatus.course_id == course_id,
                CourseStatus.completed_at.is_(None),
                CourseStatus.user_id > after,
            )
            .order_by(CourseStatus.user_id)
            .limit(limit)
        )
    )


async def refresh_learners(session: AsyncSession, *, course_id: int) -> int:
    """Recompute the standing of every learner who has started and not completed the course against its current
    version, in one transaction (the command line's and tests' way; the app does it as a job, below).
    Completions are history and never move."""
    course, version = await content_service.get_course_by_id(session, course_id=course_id)
    user_ids = await _learners_to_refresh(session, course_id=course.id, after=0, limit=10**9)
    for user_id in user_ids:
        await refresh(session, user_id=user_id, course=course, version=version)
    return len(user_ids)


async def recompute_standings(context: JobContext) -> dict[str, int]:
    """The job behind a new current version: every learner's standing follows it, a chunk per transaction with
    "done up to this learner", so a restarted job continues where it stopped. Recomputing reads the version
    that is current when the chunk runs, so a later publication's job and this one agree."""
    course_id = int(context.payload["course_id"])
    after = int(context.checkpoint.get("after_user_id", 0))
    done = context.claim.progress_done
    while True:
        async with context.transaction() as session:
            if after == 0 and done == 0:
                total = await session.scalar(
                    select(func.count()).where(CourseStatus.course_id == course_id, CourseStatus.completed_at.is_(None))
                )
                await context.step(session, total=int(total or 0))
            course, version = await content_service.get_course_by_id(session, course_id=course_id)
            user_ids = await _learners_to_refresh(session, course_id=course_id, after=after, limit=RECOMPUTE_CHUNK)
            if not user_ids:
                return {"learners": done}
            for user_id in user_ids:
                await refresh(session, user_id=user_id, course=course, version=version)
            after, done = user_ids[-1], done + len(user_ids)
            await context.step(session, checkpoint={"after_user_id": after}, done=done)


RECOMPUTE_STANDINGS = JobKind(
    "standing.recompute", recompute_standings, max_attempts=5, timeout_seconds=3600, label="進捗の再計算(新しい版)"
)


async def follow_current_version(session: AsyncSession, event: CurrentVersionChanged) -> None:
    """Standings follow a course to its new current version (subscribed in app/subscriptions.py): enqueued in
    the publication's transaction, so it happens if and only if the publication commits."""
    version = await session.get(CourseVersion, event.version_id)
    title = f"{version.title}(第{version.number}版)" if version else f"コース {event.course_id}"
    await queue.enqueue(
        session,
        RECOMPUTE_STANDINGS,
        {"course_id": event.course_id, "version_id": event.version_id},
        subject=f"進捗の再計算: {title}",
    )


async def restart_training(session: AsyncSession, *, course_id: int, user_ids: list[int], since: datetime) -> list[int]:
    """Learners of these who completed the course before `since` train again from `since`; returns who."""
    if not user_ids:
        return []
    completed = list(
        await session.scalars(
            select(CourseCompletion.user_id).where(
                CourseCompletion.course_id == course_id,
                CourseCompletion.user_id.in_(user_ids),
                CourseCompletion.completed_at < since,
            )
        )
    )
    if not completed:
        return []
    # The completion is the current cycle's; the certificate issued for it keeps the record of the earlier one.
    await session.execute(
        delete(CourseCompletion).where(CourseCompletion.course_id == course_id, CourseCompletion.user_id.in_(completed))
    )
    await session.execute(
        update(Enrollment)
        .where(Enrollment.course_id == course_id, Enrollment.user_id.in_(completed))
        .values(cycle_started_at=since)
    )
    # Nothing counts yet in the new cycle, so every learner's standing is exactly zero: one statement for all of
    # them instead of recomputing each (the dashboard's counters are rebuilt from these rows afterwards).
    await session.execute(
        update(CourseStatus)
        .where(CourseStatus.course_id == course_id, CourseStatus.user_id.in_(completed))
        .values(
            percent=0,
            lessons_read=0,
            tests_passed=0,
            best_score=None,
            attempts=0,
            started_at=None,
            last_activity_at=None,
            completed_at=None,
        )
    )
    return completed
