"""Imports every domain's models so that Base.metadata is complete (Alembic and tests use this)."""

from app.auth.models import User, UserSession
from app.content.models import Asset, Course, CourseVersion
from app.core.db import Base
from app.lessons.models import Lesson
from app.org.models import Department
from app.progress.models import CourseCompletion, Enrollment, LessonProgress
from app.quiz.models import Attempt, AttemptAnswer, Quiz

__all__ = [
    "Asset",
    "Attempt",
    "AttemptAnswer",
    "Base",
    "Course",
    "CourseCompletion",
    "CourseVersion",
    "Department",
    "Enrollment",
    "Lesson",
    "LessonProgress",
    "Quiz",
    "User",
    "UserSession",
]
