"""The evidence pack: for one employee or a department, every record an auditor or a labour inspector asks for
(assignments and due dates, lesson versions read, attempts and scores, acknowledgments of the company's policy
and manual with their versions, certificates), read from the database in one pass per kind of record."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.certificates.models import Certificate
from app.content.models import Course, CourseVersion
from app.documents import acknowledgments, rules
from app.documents.kinds import KINDS
from app.documents.models import Acknowledgment, CompanyDocument, DocumentVersion
from app.enrolments.models import Enrollment
from app.lessons.models import Lesson
from app.org.models import Department
from app.progress.models import CourseCompletion, CourseStatus, LessonProgress, LessonReading
from app.quiz.models import Attempt, Quiz


@dataclass(frozen=True)
class Person:
    user_id: int
    name: str
    employee_number: str | None
    email: str | None
    department: str
    active: bool
    department_path: str = ""


@dataclass(frozen=True)
class AssignmentRecord:
    user_id: int
    course: str
    assigned_at: datetime
    due_at: datetime | None
    percent: int
    completed_at: datetime | None


@dataclass(frozen=True)
class ReadingRecord:
    user_id: int
    course: str
    lesson: str
    version_number: int | None
    read_at: datetime
    seconds_spent: int


@dataclass(frozen=True)
class AttemptRecord:
    user_id: int
    course: str
    test: str
    attempt_number: int
    version_number: int
    started_at: datetime
    submitted_at: datetime | None
    score: float | None
    passed: bool | None


@dataclass(frozen=True)
class AcknowledgmentRecord:
    user_id: int
    document: str
    version_number: int
    title: str
    acknowledged_at: datetime


@dataclass(frozen=True)
class CertificateRecord:
    user_id: int
    course: str
    version_number: int
    code: str
    completed_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class PendingRecord:
    """A published document addressed to the person that they have not acknowledged (in the version that counts)."""

    user_id: int
    document: str
    version_number: int
    title: str


@dataclass
class EvidencePack:
    subject: str  # 「営業部(配下を含む)」 or the employee's name
    generated_at: datetime
    people: list[Person]
    assignments: list[AssignmentRecord] = field(default_factory=list)
    readings: list[ReadingRecord] = field(default_factory=list)
    attempts: list[AttemptRecord] = field(default_factory=list)
    acknowledgments: list[AcknowledgmentRecord] = field(default_factory=list)
    certificates: list[CertificateRecord] = field(default_factory=list)
    pending: list[PendingRecord] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        return {
            "people": len(self.people),
            "assignments": len(self.assignments),
            "readings": len(self.readings),
            "attempts": len(self.attempts),
            "acknowledgments": len(self.acknowledgments),
            "pending": len(self.pending),
            "certificates": len(self.certificates),
        }


async def _people(session: AsyncSession, condition: object) -> list[Person]:
    rows = await session.execute(
        select(
            User.id,
            User.display_name,
            User.employee_number,
            User.email,
            Department.name,
            User.is_active,
            Department.path,
        )
        .outerjoin(Department, Department.id == User.department_id)
        .where(condition)
        .order_by(Department.path, User.display_name, User.id)
    )
    return [
        Person(uid, name, number, email, dep or "", active, path or "")
        for uid, name, number, email, dep, active, path in rows
    ]


async def for_department(session: AsyncSession, *, department: Department, now: datetime) -> EvidencePack:
    """Everyone now in the department or below it, active or not (a leaver's records still count)."""
    condition = Department.path.startswith(department.path, autoescape=True)
    people = await _people(session, condition)
    return await _fill(session, EvidencePack(f"{department.name}(配下の部署を含む)", now, people), condition)


async def for_employee(session: AsyncSession, *, user_id: int, now: datetime) -> EvidencePack:
    people = await _people(session, User.id == user_id)
    return await _fill(session, EvidencePack(people[0].name if people else "", now, people), User.id == user_id)


async def _fill(session: AsyncSession, pack: EvidencePack, condition: object) -> EvidencePack:
    if not pack.people:
        return pack
    order = {person.user_id: index for index, person in enumerate(pack.people)}
    # The people as a subquery, not a list of ids: a department of 40,000 would pass the driver's parameter limit.
    ids = select(User.id).outerjoin(Department, Department.id == User.department_id).where(condition)
    titles = dict(
        (
            await session.execute(
                select(Course.id, CourseVersion.title).join(
                    CourseVersion, CourseVersion.id == Course.current_version_id
                )
            )
        ).all()
    )
    for user_id, course_id, assigned, due, percent, completed in await session.execute(
        select(
            Enrollment.user_id,
            Enrollment.course_id,
            Enrollment.assigned_at,
            Enrollment.due_at,
            CourseStatus.percent,
            CourseCompletion.completed_at,
        )
        .outerjoin(
            CourseStatus,
            and_(CourseStatus.user_id == Enrollment.user_id, CourseStatus.course_id == Enrollment.course_id),
        )
        .outerjoin(
            CourseCompletion,
            and_(CourseCompletion.user_id == Enrollment.user_id, CourseCompletion.course_id == Enrollment.course_id),
        )
        .where(Enrollment.user_id.in_(ids))
    ):
        pack.assignments.append(
            AssignmentRecord(user_id, titles.get(course_id, ""), assigned, due, percent or 0, completed)
        )
    seconds = {
        (user_id, course_id, slug): spent
        for user_id, course_id, slug, spent in await session.execute(
            select(
                LessonProgress.user_id,
                LessonProgress.course_id,
                LessonProgress.lesson_slug,
                LessonProgress.seconds_spent,
            ).where(LessonProgress.user_id.in_(ids))
        )
    }
    for user_id, course_id, slug, number, title, read_at in await session.execute(
        select(
            LessonReading.user_id,
            LessonReading.course_id,
            LessonReading.lesson_slug,
            CourseVersion.number,
            Lesson.title,
            LessonReading.read_at,
        )
        .join(CourseVersion, CourseVersion.id == LessonReading.version_id)
        .outerjoin(
            Lesson, and_(Lesson.version_id == LessonReading.version_id, Lesson.slug == LessonReading.lesson_slug)
        )
        .where(LessonReading.user_id.in_(ids))
        .order_by(LessonReading.read_at, LessonReading.id)
    ):
        pack.readings.append(
            ReadingRecord(
                user_id,
                titles.get(course_id, ""),
                title or slug,
                number,
                read_at,
                seconds.get((user_id, course_id, slug), 0),
            )
        )
    for attempt, quiz_title, number in await session.execute(
        select(Attempt, Quiz.title, CourseVersion.number)
        .join(Quiz, Quiz.id == Attempt.quiz_id)
        .join(CourseVersion, CourseVersion.id == Quiz.version_id)
        .where(Attempt.user_id.in_(ids))
        .order_by(Attempt.started_at, Attempt.id)
    ):
        pack.attempts.append(
            AttemptRecord(
                attempt.user_id,
                titles.get(attempt.course_id, ""),
                quiz_title,
                attempt.attempt_number,
                number,
                attempt.started_at,
                attempt.submitted_at,
                attempt.score,
                attempt.passed,
            )
        )
    for ack, kind, number, title in await session.execute(
        select(Acknowledgment, CompanyDocument.kind, DocumentVersion.number, DocumentVersion.title)
        .join(DocumentVersion, DocumentVersion.id == Acknowledgment.version_id)
        .join(CompanyDocument, CompanyDocument.id == Acknowledgment.document_id)
        .where(Acknowledgment.user_id.in_(ids))
        .order_by(Acknowledgment.acknowledged_at)
    ):
        label = KINDS[kind].label if kind in KINDS else kind
        pack.acknowledgments.append(AcknowledgmentRecord(ack.user_id, label, number, title, ack.acknowledged_at))
    for certificate in await session.scalars(
        select(Certificate).where(Certificate.user_id.in_(ids)).order_by(Certificate.completed_at)
    ):
        pack.certificates.append(
            CertificateRecord(
                certificate.user_id,
                certificate.course_title,
                certificate.version_number,
                certificate.code,
                certificate.completed_at,
                certificate.expires_at,
            )
        )
    await _pending_acknowledgments(session, pack)
    for records in (
        pack.assignments,
        pack.readings,
        pack.attempts,
        pack.acknowledgments,
        pack.certificates,
        pack.pending,
    ):
        records.sort(key=lambda record: order[record.user_id])  # stable: each person's records stay in time order
    return pack


async def _pending_acknowledgments(session: AsyncSession, pack: EvidencePack) -> None:
    """For each published document, the active people it is addressed to whose acknowledgments do not reach the
    version that counts (an auditor asks who has *not* confirmed as much as who has)."""
    published = (
        await session.execute(
            select(CompanyDocument, DocumentVersion, Department.path)
            .join(DocumentVersion, DocumentVersion.id == CompanyDocument.current_version_id)
            .outerjoin(Department, Department.id == CompanyDocument.department_id)
        )
    ).all()
    for document, version, audience_path in published:
        label = KINDS[document.kind].label if document.kind in KINDS else document.kind
        required = await acknowledgments.required_number(session, document=document)
        acknowledged: dict[int, list[int]] = {}
        for record in pack.acknowledgments:
            if record.document == label:
                acknowledged.setdefault(record.user_id, []).append(record.version_number)
        for person in pack.people:
            reached = rules.in_audience(
                active=person.active, person_path=person.department_path, audience_path=audience_path
            )
            if reached and not rules.is_acknowledged(acknowledged.get(person.user_id, []), required):
                pack.pending.append(PendingRecord(person.user_id, label, version.number, version.title))
