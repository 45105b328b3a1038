"""Read-and-sign: who must read a document, their acknowledgments pinned to the exact version read, and the
report of who has acknowledged what."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, false, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import User
from app.core.db import upsert_insert, utcnow
from app.core.errors import Conflict, NotFound
from app.documents import rules
from app.documents.kinds import KINDS, Kind
from app.documents.models import Acknowledgment, CompanyDocument, DocumentVersion
from app.mail import service as mail_service
from app.org.models import Department


def audience_filter(document: CompanyDocument, department_path: str | None) -> Any:
    """Active people the document is addressed to: everyone, or the chosen department and its subtree."""
    condition = User.is_active.is_(True)
    if document.department_id is not None:
        condition = condition & Department.path.startswith(department_path or "\x00", autoescape=True)
    return condition


async def _department_path(session: AsyncSession, department_id: int | None) -> str | None:
    if department_id is None:
        return None
    return await session.scalar(select(Department.path).where(Department.id == department_id))


async def required_number(session: AsyncSession, *, document: CompanyDocument) -> int | None:
    """The version number an acknowledgment must reach to count (None: nothing asks yet)."""
    rows = await session.execute(
        select(DocumentVersion.number, DocumentVersion.requires_ack).where(DocumentVersion.document_id == document.id)
    )
    return rules.required_number(rules.VersionFacts(number, asks) for number, asks in rows)


async def is_in_audience(session: AsyncSession, *, document: CompanyDocument, user: User) -> bool:
    """Whether the document is addressed to the user (active, and in its department's subtree if it has one)."""
    if not user.is_active:
        return False
    if document.department_id is None:
        return True
    path = await _department_path(session, document.department_id)
    user_path = await session.scalar(select(Department.path).where(Department.id == user.department_id))
    return path is not None and rules.in_audience(active=True, person_path=user_path, audience_path=path)


@dataclass(frozen=True)
class Reading:
    kind: Kind
    document: CompanyDocument
    version: DocumentVersion
    acknowledged: Acknowledgment | None  # the newest acknowledgment, of whatever version
    acknowledged_version_number: int | None
    up_to_date: bool


async def reading_for(session: AsyncSession, *, kind: Kind, user: User) -> Reading | None:
    """The learner's standing with one document: None when it is not published or not addressed to them."""
    document = await session.scalar(select(CompanyDocument).where(CompanyDocument.kind == kind.key))
    if document is None or document.current_version_id is None:
        return None
    if not await is_in_audience(session, document=document, user=user):
        return None
    version = await session.get(DocumentVersion, document.current_version_id)
    assert version is not None
    acks = list(
        await session.execute(
            select(Acknowledgment, DocumentVersion.number)
            .join(DocumentVersion, DocumentVersion.id == Acknowledgment.version_id)
            .where(Acknowledgment.user_id == user.id, Acknowledgment.document_id == document.id)
            .order_by(DocumentVersion.number.desc())
        )
    )
    required = await required_number(session, document=document)
    return Reading(
        kind,
        document,
        version,
        acks[0][0] if acks else None,
        acks[0][1] if acks else None,
        rules.is_acknowledged((number for _ack, number in acks), required),
    )


async def required_reading(session: AsyncSession, *, user: User) -> list[Reading]:
    """The published documents addressed to the learner, with their standing on each."""
    readings = [await reading_for(session, kind=kind, user=user) for kind in KINDS.values()]
    return [reading for reading in readings if reading is not None]


async def acknowledge(session: AsyncSession, *, kind: Kind, user: User, version_number: int) -> Acknowledgment:
    """Record 「内容を理解しました」 for the version the learner had on screen, which must still be current."""
    reading = await reading_for(session, kind=kind, user=user)
    if reading is None:
        raise NotFound("確認が必要な文書はありません。")
    if reading.version.number != version_number:
        raise Conflict("新しい版が公開されています。最新の内容を読んでから、もう一度確認してください。")
    insert = upsert_insert(session)
    await session.execute(
        insert(Acknowledgment)
        .values(
            user_id=user.id, document_id=reading.document.id, version_id=reading.version.id, acknowledged_at=utcnow()
        )
        .on_conflict_do_nothing(index_elements=["user_id", "version_id"])
    )
    acknowledgment = await session.scalar(
        select(Acknowledgment).where(Acknowledgment.user_id == user.id, Acknowledgment.version_id == reading.version.id)
    )
    assert acknowledgment is not None
    return acknowledgment


@dataclass(frozen=True)
class AckRow:
    user_id: int
    name: str
    email: str | None
    employee_number: str | None
    department: str
    acknowledged_number: int | None
    acknowledged_at: datetime | None
    up_to_date: bool


PAGE_SIZE = 200


@dataclass(frozen=True)
class AckSummary:
    audience: int
    up_to_date: int
    by_department: list[tuple[str, int, int]]  # (department, audience, up to date), in tree order

    @property
    def pending(self) -> int:
        return self.audience - self.up_to_date


@dataclass(frozen=True)
class AckReport(AckSummary):
    rows: list[AckRow] = field(default_factory=list)


def _newest_acknowledgments(document: CompanyDocument) -> Any:
    """Per person, the newest version they acknowledged and when."""
    return (
        select(
            Acknowledgment.user_id,
            func.max(DocumentVersion.number).label("number"),
            func.max(Acknowledgment.acknowledged_at).label("at"),
        )
        .join(DocumentVersion, DocumentVersion.id == Acknowledgment.version_id)
        .where(Acknowledgment.document_id == document.id)
        .group_by(Acknowledgment.user_id)
        .subquery()
    )


async def acknowledgment_summary(session: AsyncSession, *, document: CompanyDocument) -> AckSummary:
    """How many of the audience have acknowledged the version that counts, in all and per department, counted by
    the database (the overview pages show these for 100,000 people without loading them)."""
    required = await required_number(session, document=document)
    path = await _department_path(session, document.department_id)
    newest = _newest_acknowledgments(document)
    counts = literal(1) if required is None else case((newest.c.number >= required, 1), else_=0)
    result = await session.execute(
        select(Department.name, func.count(User.id), func.coalesce(func.sum(counts), 0))
        .outerjoin(Department, Department.id == User.department_id)
        .outerjoin(newest, newest.c.user_id == User.id)
        .where(audience_filter(document, path))
        .group_by(Department.id, Department.name, Department.path)
        .order_by(Department.path)
    )
    rows = [(name or "(部署なし)", int(total), int(done)) for name, total, done in result]
    return AckSummary(sum(total for _n, total, _d in rows), sum(done for _n, _t, done in rows), rows)


async def acknowledgment_report(
    session: AsyncSession, *, document: CompanyDocument, pending_only: bool = False, page: int | None = None
) -> AckReport:
    """Everyone the document is addressed to (or only those still to acknowledge), with the newest version each
    acknowledged and whether it counts; one page of PAGE_SIZE people when `page` is given."""
    required = await required_number(session, document=document)
    path = await _department_path(session, document.department_id)
    newest = _newest_acknowledgments(document)
    statement = (
        select(
            User.id, User.display_name, User.email, User.employee_number, Department.name, newest.c.number, newest.c.at
        )
        .outerjoin(Department, Department.id == User.department_id)
        .outerjoin(newest, newest.c.user_id == User.id)
        .where(audience_filter(document, path))
        .order_by(Department.path, User.display_name, User.id)
    )
    if pending_only and required is not None:
        statement = statement.where(or_(newest.c.number.is_(None), newest.c.number < required))
    elif pending_only:
        statement = statement.where(false())
    if page is not None:
        statement = statement.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    result = await session.execute(statement)
    rows = [
        AckRow(
            uid,
            name,
            email,
            number_,
            department or "",
            acked,
            at,
            rules.is_acknowledged([acked or 0], required) if acked else required is None,
        )
        for uid, name, email, number_, department, acked, at in result
    ]
    summary = await acknowledgment_summary(session, document=document)
    return AckReport(summary.audience, summary.up_to_date, summary.by_department, rows)


async def remind_pending(
    session: AsyncSession, *, settings: Any, kind: Kind, document: CompanyDocument, actor: User
) -> int:
    """Mail everyone who has not acknowledged the version that counts (and has an e-mail); returns how many. Staff
    without a company e-mail are in the list for their manager to speak to."""
    report = await acknowledgment_report(session, document=document, pending_only=True)
    version = await session.get(DocumentVersion, document.current_version_id) if document.current_version_id else None
    if version is None:
        raise NotFound("まだ公開されていません。")
    link = f"{settings.base_url.rstrip('/')}/documents/{kind.key}"
    messages = []
    for row in report.rows:
        if row.up_to_date or not row.email:
            continue
        body = (
            f"{row.name} さん\n\n「{version.title}」(第{version.number}版)の確認がまだ済んでいません。\n"
            f"次のリンクから内容を読み、「内容を理解しました」を記録してください。\n{link}\n"
        )
        messages.append(
            mail_service.store(
                to_address=row.email, to_user_id=row.user_id, subject=f"【確認のお願い】{version.title}", body=body
            )
        )
    session.add_all(messages)
    await session.flush()
    for start in range(0, len(messages), mail_service.BATCH_SIZE):
        batch = messages[start : start + mail_service.BATCH_SIZE]
        await mail_service.deliver_later(
            session, settings=settings, message_ids=[m.id for m in batch], subject=f"確認のお願い: {version.title}"
        )
    sent = len(messages)
    await audit.record(
        session,
        actor=actor,
        action="document.remind",
        target_type="document",
        target_id=document.id,
        summary=f"{kind.label} 第{version.number}版の未確認者 {sent}名に確認を依頼",
        details={"kind": kind.key, "number": version.number, "sent": sent},
    )
    return sent
