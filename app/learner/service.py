"""What a learner's action sets off across domains: a test started only on the course's current version, and a
submission that moves the learner's standing in the course as it is now."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.content import service as content_service
from app.core.errors import Conflict
from app.progress import standing
from app.quiz import service as quiz_service
from app.quiz.models import Attempt, Quiz


async def start_attempt(session: AsyncSession, *, user_id: int, quiz_id: int) -> Attempt:
    """Resume or start an attempt at a test of the course's current version (an older version's test is closed)."""
    quiz = await quiz_service.get_quiz(session, quiz_id=quiz_id)
    course, version = await content_service.course_of_version(session, version_id=quiz.version_id)
    if course.current_version_id != version.id:
        raise Conflict("このテストは新しい版に更新されました。コースのページから開き直してください。")
    return await quiz_service.start_attempt(session, user_id=user_id, course_id=course.id, quiz=quiz)


async def submit_attempt(
    session: AsyncSession, *, attempt: Attempt, quiz: Quiz, form: dict[str, dict[str, list[str]]]
) -> None:
    """Grade the attempt once; the first submission also moves the learner's standing, always measured against
    the course's current version (a test taken on an older version still counts for the same lessons)."""
    if await quiz_service.submit_attempt(session, attempt=attempt, quiz=quiz, form=form):
        course, version = await content_service.get_course_by_id(session, course_id=attempt.course_id)
        await standing.refresh(session, user_id=attempt.user_id, course=course, version=version)
