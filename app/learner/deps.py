"""Validating dependencies of the learner's pages: the course named in the path (at its current version) and the
signed-in learner's own attempt. Each loads what the page needs or answers 404."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from app.auth.deps import CurrentUser
from app.content import service as content_service
from app.content.models import Course, CourseVersion
from app.core.deps import SessionDep
from app.learner import service
from app.quiz.bank import QuestionBank
from app.quiz.models import Attempt, Quiz


@dataclass(frozen=True)
class CourseAtVersion:
    course: Course
    version: CourseVersion


@dataclass(frozen=True)
class AttemptAtQuiz:
    attempt: Attempt
    quiz: Quiz
    bank: QuestionBank


async def current_course(course_slug: str, db: SessionDep) -> CourseAtVersion:
    course, version = await content_service.get_course(db, slug=course_slug)
    return CourseAtVersion(course, version)


async def own_attempt(attempt_id: int, db: SessionDep, user: CurrentUser) -> AttemptAtQuiz:
    """Another learner's attempt is indistinguishable from none. One statement: the attempt with its version's
    publication; the test itself comes from the worker's cache of published versions."""
    attempt, test = await service.own_attempt(db, attempt_id=attempt_id, user_id=user.id)
    return AttemptAtQuiz(attempt, test.quiz, test.bank)


CurrentCourse = Annotated[CourseAtVersion, Depends(current_course)]
OwnAttempt = Annotated[AttemptAtQuiz, Depends(own_attempt)]
