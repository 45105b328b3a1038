"""Recurring training with a controlled clock: the next cycle opens on time, exactly once, and people who had
completed the course train again while their history and certificates stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import service as assignment_service
from app.assignments.models import Assignment
from app.assignments.recurrence import open_due_cycles
from app.certificates.models import Certificate
from app.content import service as content_service
from app.core.clock import add_months
from app.core.db import utcnow
from app.enrolments.models import Enrollment
from app.org.scope import EVERYTHING
from app.progress import standing as progress_standing
from app.progress.models import CourseCompletion, CourseStatus, LessonProgress, LessonReading
from app.quiz import service as quiz_service
from app.quiz.models import Attempt
from tests.org_fixture import Org, read, take_test

T0 = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
DUE = datetime(2026, 12, 31, 14, 59, tzinfo=UTC)


async def recurring(db: AsyncSession, org: Org, months: int = 12) -> Assignment:
    assignment = await assignment_service.assign(
        db,
        course_id=org.course.id,
        scope=EVERYTHING,
        created_by=org.users["admin"],
        due_at=DUE,
        department_id=org.departments["第一課"].id,
        recur_months=months,
    )
    assignment.opens_at = T0
    await db.commit()
    return assignment


async def standing(db: AsyncSession, org: Org, key: str):
    course, version = await content_service.get_course(db, slug=org.course.slug)
    return await progress_standing.progress_for(db, user_id=org.users[key].id, course=course, version=version)


def test_add_months_keeps_the_day_or_takes_the_last_one() -> None:
    assert add_months(datetime(2026, 1, 31, 15, 0, tzinfo=UTC), 1) == datetime(2026, 2, 28, 15, 0, tzinfo=UTC)
    assert add_months(datetime(2026, 12, 15, tzinfo=UTC), 12) == datetime(2027, 12, 15, tzinfo=UTC)
    assert add_months(datetime(2027, 11, 30, tzinfo=UTC), 3) == datetime(2028, 2, 29, tzinfo=UTC)


async def test_the_next_cycle_opens_on_time_and_only_once(org: Org, db: AsyncSession) -> None:
    first = await recurring(db, org)
    assert await open_due_cycles(db, now=datetime(2027, 11, 30, 23, 59, tzinfo=UTC)) == []

    opened = await open_due_cycles(db, now=datetime(2027, 12, 1, 0, 0, tzinfo=UTC))
    await db.commit()
    assert [(a.previous_id, a.opens_at, a.due_at, a.recur_months) for a in opened] == [
        (first.id, datetime(2027, 12, 1, tzinfo=UTC), datetime(2027, 12, 31, 14, 59, tzinfo=UTC), 12)
    ]
    assert await open_due_cycles(db, now=datetime(2027, 12, 2, tzinfo=UTC)) == []  # a second check: nothing new
    assert await db.scalar(select(func.count()).select_from(Assignment).where(Assignment.previous_id.is_not(None))) == 1


async def test_a_late_check_catches_up_every_missed_cycle(org: Org, db: AsyncSession) -> None:
    await recurring(db, org, months=6)
    opened = await open_due_cycles(db, now=datetime(2028, 1, 15, tzinfo=UTC))
    assert [a.opens_at for a in opened] == [datetime(2027, 6, 1, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC)]
    # Counted from the first cycle: the 31st comes back after the 30th of June.
    assert [a.due_at for a in opened] == [
        datetime(2027, 6, 30, 14, 59, tzinfo=UTC),
        datetime(2027, 12, 31, 14, 59, tzinfo=UTC),
    ]


async def backdate(db: AsyncSession, user_id: int, when: datetime) -> None:
    """Move a learner's whole training to `when`, so the clock can open a later cycle before today."""
    await db.execute(update(CourseCompletion).where(CourseCompletion.user_id == user_id).values(completed_at=when))
    await db.execute(
        update(LessonProgress)
        .where(LessonProgress.user_id == user_id)
        .values(read_at=when, first_opened_at=when, last_opened_at=when)
    )
    await db.execute(update(Attempt).where(Attempt.user_id == user_id).values(started_at=when, submitted_at=when))


async def test_people_who_completed_train_again_and_keep_their_history(org: Org, db: AsyncSession) -> None:
    e2 = org.users["e2"]
    assert (await standing(db, org, "e2")).completed_at is not None
    # Last year's cycle, which e2 completed; the new one opened a month ago, and e2 trains again today.
    first_opened = add_months(utcnow(), -13)
    await backdate(db, e2.id, first_opened + timedelta(days=3))
    attempts_before = await db.scalar(select(func.count()).select_from(Attempt).where(Attempt.user_id == e2.id))
    assignment = await assignment_service.assign(
        db,
        course_id=org.course.id,
        scope=EVERYTHING,
        created_by=None,
        due_at=first_opened + timedelta(days=30),
        user_id=e2.id,
        recur_months=12,
    )
    assignment.opens_at = first_opened
    await db.commit()
    await open_due_cycles(db, now=add_months(first_opened, 12) + timedelta(hours=1))
    await db.commit()

    progress = await standing(db, org, "e2")
    assert progress.completed_at is None and progress.percent == 0
    assert [row.state.status for row in progress.lessons] == ["reread", "reread"]
    completions = select(func.count()).select_from(CourseCompletion).where(CourseCompletion.user_id == e2.id)
    assert await db.scalar(completions) == 0
    assert await db.scalar(select(func.count()).select_from(Attempt).where(Attempt.user_id == e2.id)) == attempts_before
    assert await db.scalar(select(func.count()).select_from(Certificate).where(Certificate.user_id == e2.id)) == 1
    enrollment = await db.scalar(select(Enrollment).where(Enrollment.user_id == e2.id))
    assert enrollment is not None and enrollment.due_at == add_months(first_opened + timedelta(days=30), 12)
    assert enrollment.cycle_started_at == add_months(first_opened, 12)

    # Training again completes the new cycle and issues a second certificate.
    for slug in ("basics", "responses"):
        await read(db, e2, org.course, slug)
        await take_test(db, e2, org.course, slug, answers=None)
    await db.commit()
    assert (await standing(db, org, "e2")).completed_at is not None
    assert await db.scalar(select(func.count()).select_from(Certificate).where(Certificate.user_id == e2.id)) == 2
    reads = (await db.scalars(select(LessonProgress.read_at).where(LessonProgress.user_id == e2.id))).all()
    assert all(read_at is not None for read_at in reads)
    # Both cycles' readings stay on record (the evidence pack lists them), the earlier ones first.
    readings = (
        await db.execute(
            select(LessonReading.lesson_slug, LessonReading.read_at)
            .where(LessonReading.user_id == e2.id)
            .order_by(LessonReading.id)
        )
    ).all()
    assert [slug for slug, _at in readings] == ["basics", "responses", "basics", "responses"]
    status = await db.scalar(select(CourseStatus).where(CourseStatus.user_id == e2.id))
    assert status is not None and status.completed_at is not None and status.percent == 100


async def test_a_test_left_open_in_the_last_cycle_is_not_resumed_in_the_new_one(org: Org, db: AsyncSession) -> None:
    e2 = org.users["e2"]
    course, version = await content_service.get_course(db, slug=org.course.slug)
    quiz = (await quiz_service.quizzes_of_version(db, version_id=version.id))["basics"]
    left_open = await quiz_service.start_attempt(db, user_id=e2.id, course_id=course.id, quiz=quiz)
    first_opened = add_months(utcnow(), -13)
    await backdate(db, e2.id, first_opened + timedelta(days=3))
    assignment = await assignment_service.assign(
        db, course_id=course.id, scope=EVERYTHING, created_by=None, due_at=None, user_id=e2.id, recur_months=12
    )
    assignment.opens_at = first_opened
    await open_due_cycles(db, now=add_months(first_opened, 12) + timedelta(hours=1))
    status = await db.scalar(select(CourseStatus).where(CourseStatus.user_id == e2.id))
    assert status is not None and status.started_at is None and status.percent == 0  # not started in this cycle
    fresh = await quiz_service.start_attempt(db, user_id=e2.id, course_id=course.id, quiz=quiz)
    assert fresh.id != left_open.id and fresh.attempt_number > left_open.attempt_number


async def test_people_still_training_keep_their_progress_into_the_new_cycle(org: Org, db: AsyncSession) -> None:
    e4 = org.users["e4"]
    before = await standing(db, org, "e4")
    assignment = await assignment_service.assign(
        db, course_id=org.course.id, scope=EVERYTHING, created_by=None, due_at=DUE, user_id=e4.id, recur_months=12
    )
    assignment.opens_at = T0
    await db.commit()
    await open_due_cycles(db, now=datetime(2027, 12, 1, 9, 0, tzinfo=UTC))
    after = await standing(db, org, "e4")
    assert [row.state for row in after.lessons] == [row.state for row in before.lessons]
    assert (await db.scalar(select(Enrollment.cycle_started_at).where(Enrollment.user_id == e4.id))) is None


def test_months_are_counted_on_the_japanese_calendar() -> None:
    # 29 Feb 2028, 05:00 in Japan is 28 Feb 20:00 UTC: a year later is 28 Feb 2029 in Japan (not 1 March).
    completed = datetime(2028, 2, 28, 20, 0, tzinfo=UTC)
    assert add_months(completed, 12) == datetime(2029, 2, 27, 20, 0, tzinfo=UTC)
    # 31 Jan 23:30 in Japan (14:30 UTC): a month later is the last day of February in Japan.
    assert add_months(datetime(2027, 1, 31, 14, 30, tzinfo=UTC), 1) == datetime(2027, 2, 28, 14, 30, tzinfo=UTC)


async def test_a_manager_stops_a_recurring_chain_at_its_newest_cycle(org: Org, db: AsyncSession, app) -> None:
    import httpx

    from tests.conftest import sign_in

    first = await recurring(db, org)
    await open_due_cycles(db, now=datetime(2027, 12, 1, tzinfo=UTC))
    await db.commit()
    newest = await db.scalar(select(Assignment).where(Assignment.previous_id == first.id))
    assert newest is not None
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as manager:
        await sign_in(manager, "manager.a@example.com")  # manages 営業部, which holds 第一課
        assert (await manager.post(f"/manage/assignments/{first.id}/stop-recurrence")).status_code == 409
        assert (await manager.post(f"/manage/assignments/{newest.id}/stop-recurrence")).status_code == 303
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as other:
        await sign_in(other, "manager.b@example.com")  # 店舗部: not theirs
        assert (await other.post(f"/manage/assignments/{newest.id}/stop-recurrence")).status_code == 404
    db.expire_all()
    assert await open_due_cycles(db, now=datetime(2030, 1, 1, tzinfo=UTC)) == []
