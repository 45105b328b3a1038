"""Certificates (修了証): issued when a training cycle is completed, verified publicly by code, expiring when the
course says so."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.certificates import codes
from app.certificates.models import Certificate
from app.content.models import Course, CourseVersion
from app.core.clock import add_months
from app.core.errors import NotFound
from app.org.models import Department
from app.org.scope import Scope


class Standing(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"


def standing_at(expires_at: datetime | None, *, now: datetime) -> Standing:
    """Valid until the expiry (if any), expired from that moment."""
    return Standing.EXPIRED if expires_at is not None and expires_at <= now else Standing.VALID


def standing(certificate: Certificate, *, now: datetime) -> Standing:
    return standing_at(certificate.expires_at, now=now)


def expiry_for(completed_at: datetime, valid_months: int | None) -> datetime | None:
    """When a completion stops being valid: `valid_months` after it, on the Japanese calendar (None: never)."""
    return add_months(completed_at, valid_months) if valid_months else None


async def issue(
    session: AsyncSession, *, user_id: int, course: Course, version: CourseVersion, completed_at: datetime
) -> Certificate:
    """One certificate for this completion; calling again for the same completion returns the same one."""
    existing = await session.scalar(
        select(Certificate).where(
            Certificate.user_id == user_id, Certificate.course_id == course.id, Certificate.completed_at == completed_at
        )
    )
    if existing is not None:
        return existing
    holder = await session.scalar(select(User.display_name).where(User.id == user_id))
    for _try in range(3):
        certificate = Certificate(
            code=codes.new_code(),
            user_id=user_id,
            course_id=course.id,
            version_id=version.id,
            holder_name=holder or "",
            course_title=version.title,
            version_number=version.number,
            completed_at=completed_at,
            expires_at=expiry_for(completed_at, course.valid_months),
        )
        try:
            # 70 random bits make a collision all but impossible; the unique constraint makes it harmless.
            async with session.begin_nested():
                session.add(certificate)
            return certificate
        except IntegrityError:
            continue
    raise RuntimeError("could not draw a unique certificate code")


class Verdict(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    ALTERED = "altered"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    code: str
    certificate: Certificate | None = None


async def verify(session: AsyncSession, *, text: str, now: datetime) -> Verification:
    """What the public verification page says about a code someone typed."""
    code = codes.normalise(text)
    shape = codes.check(code)
    if shape is codes.CodeCheck.MALFORMED:
        return Verification(Verdict.MALFORMED, code)
    if shape is codes.CodeCheck.ALTERED:
        return Verification(Verdict.ALTERED, code)
    certificate = await session.scalar(select(Certificate).where(Certificate.code == code))
    if certificate is None:
        return Verification(Verdict.UNKNOWN, code)
    verdict = Verdict.VALID if standing(certificate, now=now) is Standing.VALID else Verdict.EXPIRED
    return Verification(verdict, code, certificate)


async def for_user(session: AsyncSession, *, user_id: int) -> list[Certificate]:
    """The learner's certificates, newest first."""
    result = await session.scalars(
        select(Certificate).where(Certificate.user_id == user_id).order_by(Certificate.completed_at.desc())
    )
    return list(result)


async def count_for_user(session: AsyncSession, *, user_id: int) -> int:
    """How many certificates the learner holds (マイ研修 links to them)."""
    return (
        await session.scalar(select(func.count()).select_from(Certificate).where(Certificate.user_id == user_id)) or 0
    )


async def get_own(session: AsyncSession, *, certificate_id: int, user_id: int) -> Certificate:
    """One of the learner's own certificates; NotFound for anyone else's."""
    certificate = await session.get(Certificate, certificate_id)
    if certificate is None or certificate.user_id != user_id:
        raise NotFound("修了証が見つかりません。")
    return certificate


@dataclass(frozen=True)
class ExpiryRow:
    certificate: Certificate
    department: str
    days_left: int


def newest_of_each_course() -> tuple[Any, ColumnElement[bool]]:
    """What to join a Certificate query with to keep only each person's newest certificate of each course."""
    newest = (
        select(Certificate.user_id, Certificate.course_id, func.max(Certificate.completed_at).label("completed_at"))
        .group_by(Certificate.user_id, Certificate.course_id)
        .subquery()
    )
    return newest, and_(
        newest.c.user_id == Certificate.user_id,
        newest.c.course_id == Certificate.course_id,
        newest.c.completed_at == Certificate.completed_at,
    )


async def upcoming_expiries(
    session: AsyncSession, *, scope: Scope, now: datetime, within_days: int = 90, expired_since_days: int = 90
) -> list[ExpiryRow]:
    """Each employee's newest certificate per course that expires within `within_days` (or expired in the last
    `expired_since_days`), soonest first: who needs retraining next."""
    rows = await session.execute(
        select(Certificate, Department.name)
        .join(*newest_of_each_course())
        .join(User, User.id == Certificate.user_id)
        .outerjoin(Department, Department.id == User.department_id)
        .where(User.is_active.is_(True), scope.department_filter(Department.path))
        .where(Certificate.expires_at.is_not(None))
        .where(Certificate.expires_at <= now + timedelta(days=within_days))
        .where(Certificate.expires_at > now - timedelta(days=expired_since_days))
        .order_by(Certificate.expires_at, Certificate.id)
    )
    return [
        ExpiryRow(certificate, department or "", (certificate.expires_at - now).days)  # type: ignore[operator]
        for certificate, department in rows
    ]
