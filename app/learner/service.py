"""What a learner's action sets off across domains: a test started only on the course's current version, and a
submission that moves the learner's standing in the course as it is now."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.content import service as content_service
from app.content.models import CourseVersion
from app.content.published import PublishedQuiz, published_version
from app.core.errors import Conflict, NotFound
from app.counters.service import Tally
from app.progress import standing
from app.quiz import service as quiz_service
from app.quiz.bank import QuestionBank
from app.quiz.models import Attempt, Quiz


async def start_attempt(session: AsyncSession, *, user_id: int, quiz_id: int) -> Attempt:
    """Resume or start an attempt at a test of the course's current version (an older version's test is closed)."""
    quiz = await quiz_service.get_quiz(session, quiz_id=quiz_id)
    course, version = await content_service.course_of_version(session, version_id=quiz.version_id)
    if course.current_version_id != version.id:
        raise Conflict("このテストは新しい版に更新されました。コースのページから開き直してください。")
    return await quiz_service.start_attempt(session, user_id=user_id, course_id=course.id, quiz=quiz)


# On every autosave and submission: built once, executed with the ids.
OWN_ATTEMPT = (
    select(Attempt, Quiz.version_id, CourseVersion.published_at)
    .join(Quiz, Quiz.id == Attempt.quiz_id)
    .join(CourseVersion, CourseVersion.id == Quiz.version_id)
    .where(Attempt.id == bindparam("attempt_id"), Attempt.user_id == bindparam("user_id"))
)


async def own_attempt(session: AsyncSession, *, attempt_id: int, user_id: int) -> tuple[Attempt, PublishedQuiz]:
    """The learner's own attempt and its test (another learner's attempt is indistinguishable from none)."""
    found = (await session.execute(OWN_ATTEMPT, {"attempt_id": attempt_id, "user_id": user_id})).first()
    if found is None:
        raise NotFound("受験記録が見つかりません。")
    attempt, version_id, published_at = found
    published = await published_version(session, version_id=version_id, published_at=published_at)
    return attempt, published.test(attempt.quiz_id)


async def submit_attempt(
    session: AsyncSession,
    *,
    attempt: Attempt,
    quiz: Quiz,
    form: dict[str, dict[str, list[str]]],
    learner: User,
    bank: QuestionBank | None = None,
    blanks_confirmed: bool = True,
) -> quiz_service.HeldBack | None:
    """Grade the attempt once; the first submission also moves the learner's standing, always measured against
    the course's current version (a test taken on an older version still counts for the same lessons). The
    counters that grading, a first pass and a completion move are written together, one batch per table.
    A paper with blank questions comes back held (nothing written) unless the learner confirmed the blanks."""
    tally = Tally(attempt.course_id)
    submission = await quiz_service.submit_attempt(
        session, attempt=attempt, quiz=quiz, form=form, bank=bank, tally=tally, blanks_confirmed=blanks_confirmed
    )
    if submission is None or isinstance(submission, quiz_service.HeldBack):
        return submission
    if learner.department_id is not None:
        quiz_service.count_submission(tally, learner.department_id, attempt, submission)
    course, version = await content_service.get_course_by_id(session, course_id=attempt.course_id)
    await standing.refresh(
        session,
        user_id=attempt.user_id,
        course=course,
        version=version,
        tally=tally,
        department_id=learner.department_id,
    )
    await tally.write(session)
    return None
