"""Imports every domain's models so that Base.metadata is complete (Alembic and tests use this)."""

from app.assignments.models import Assignment
from app.audit.models import AuditEvent
from app.auth.models import ApiToken, SignInFailure, User, UserSession
from app.certificates.models import Certificate
from app.content.models import Asset, Course, CourseVersion, PackFile
from app.core.db import Base
from app.counters.models import (
    CompletionDayStat,
    LessonStat,
    MisconceptionStat,
    QuestionStat,
    RosterStat,
    WrongAnswerStat,
)
from app.dashboard.models import DashboardSnapshot, Reminder
from app.documents.models import Acknowledgment, CompanyDocument, DocumentVersion
from app.enrolments.models import Enrollment
from app.jobs.models import Job, JobFile
from app.lessons.models import Lesson
from app.mail.models import OutboxMessage
from app.org.models import Department, ManagedDepartment
from app.progress.models import CourseCompletion, CourseStatus, LessonProgress, LessonReading
from app.quiz.models import Attempt, AttemptAnswer, Quiz
from app.users.models import PasswordSetToken, SlipBatch, UserImport

__all__ = [
    "Acknowledgment",
    "ApiToken",
    "Asset",
    "Assignment",
    "Attempt",
    "AttemptAnswer",
    "AuditEvent",
    "Base",
    "Certificate",
    "CompanyDocument",
    "CompletionDayStat",
    "Course",
    "CourseCompletion",
    "CourseStatus",
    "CourseVersion",
    "DashboardSnapshot",
    "Department",
    "DocumentVersion",
    "Enrollment",
    "Job",
    "JobFile",
    "Lesson",
    "LessonProgress",
    "LessonReading",
    "LessonStat",
    "ManagedDepartment",
    "MisconceptionStat",
    "OutboxMessage",
    "PackFile",
    "PasswordSetToken",
    "QuestionStat",
    "Quiz",
    "Reminder",
    "RosterStat",
    "SignInFailure",
    "SlipBatch",
    "User",
    "UserImport",
    "UserSession",
    "WrongAnswerStat",
]
