"""Managing people: create, edit, deactivate (one-time password links are in `links`, the HR CSV import in `imports`).

Every change that moves someone between departments or in or out of the active roster also brings their
enrollments and the dashboard counters up to date, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments.models import Assignment
from app.assignments.service import sync_roster
from app.audit import service as audit
from app.auth import service as auth_service
from app.auth.models import ApiToken, Role, User
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.enrolments.models import Enrollment
from app.org.models import Department, ManagedDepartment
from app.org.service import department_paths
from app.progress.recount import recount_roster
from app.users.links import expire_links
from app.users.schemas import UserForm

ROLE_LABELS = {Role.LEARNER.value: "受講者", Role.MANAGER.value: "管理者", Role.ADMIN.value: "システム管理者"}


@dataclass
class UserRow:
    user: User
    department: str | None
    has_password: bool


async def list_users(
    session: AsyncSession,
    *,
    text: str = "",
    role: str = "",
    status: str = "",
    department_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[UserRow], int]:
    """One page of people matching the filters (a department includes its whole subtree), and how many match."""
    query = select(User)
    if department_id:
        department = await session.get(Department, department_id)
        if department is None:
            raise NotFound("部署が見つかりません。")
        query = query.join(Department, Department.id == User.department_id).where(
            Department.path.startswith(department.path)
        )
    if text.strip():
        pattern = f"%{text.strip()}%"
        query = query.where(
            or_(User.display_name.ilike(pattern), User.email.ilike(pattern), User.employee_number.ilike(pattern))
        )
    if role in ROLE_LABELS:
        query = query.where(User.role == role)
    if status == "active":
        query = query.where(User.is_active.is_(True))
    elif status == "inactive":
        query = query.where(User.is_active.is_(False))
    elif status == "no_password":
        query = query.where(User.password_hash.is_(None), User.is_active.is_(True))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    users = await session.scalars(
        query.order_by(User.employee_number.is_(None), User.employee_number, User.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    paths = await department_paths(session)
    rows = [UserRow(u, paths.get(u.department_id or 0), u.password_hash is not None) for u in users]
    return rows, total


async def get_user(session: AsyncSession, *, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("ユーザーが見つかりません。")
    return user


async def managed_department_ids(session: AsyncSession, *, user_id: int) -> list[int]:
    rows = await session.scalars(select(ManagedDepartment.department_id).where(ManagedDepartment.user_id == user_id))
    return sorted(rows)


async def set_managed(session: AsyncSession, *, user: User, department_ids: set[int]) -> bool:
    current = set(await managed_department_ids(session, user_id=user.id))
    if current == department_ids:
        return False
    for department_id in current - department_ids:
        await session.execute(
            ManagedDepartment.__table__.delete().where(
                ManagedDepartment.user_id == user.id, ManagedDepartment.department_id == department_id
            )
        )
    for department_id in department_ids - current:
        session.add(ManagedDepartment(user_id=user.id, department_id=department_id))
    await session.flush()
    return True


async def resync_roster(session: AsyncSession, *, user_ids: set[int], department_ids: set[int]) -> None:
    """After people joined, moved, left or came back: enrollments for their new place, and the counters of
    every department they were or are in."""
    if not user_ids:
        return
    course_ids = set(await session.scalars(select(Assignment.course_id).distinct()))
    course_ids |= set(
        await session.scalars(select(Enrollment.course_id).where(Enrollment.user_id.in_(user_ids)).distinct())
    )
    now_in = set(await session.scalars(select(User.department_id).where(User.id.in_(user_ids)).distinct()))
    departments = sorted(d for d in department_ids | now_in if d is not None)
    for course_id in sorted(course_ids):
        await sync_roster(session, course_id=course_id, user_ids=sorted(user_ids))
        await recount_roster(session, course_id=course_id, department_ids=departments)


async def _check_unique(session: AsyncSession, *, user_id: int | None, form: UserForm) -> None:
    if form.email:
        holder = await session.scalar(select(User.id).where(User.email == form.email))
        if holder and holder != user_id:
            raise Conflict(f"メールアドレス {form.email} は別のユーザーが使っています。")
    if form.employee_number:
        holder = await session.scalar(select(User.id).where(User.employee_number == form.employee_number))
        if holder and holder != user_id:
            raise Conflict(f"社員番号 {form.employee_number} は別のユーザーが使っています。")


async def _check_departments(session: AsyncSession, form: UserForm) -> None:
    wanted = {d for d in [form.department_id, *form.managed_department_ids] if d}
    if wanted:
        found = set(await session.scalars(select(Department.id).where(Department.id.in_(wanted))))
        if wanted - found:
            raise InvalidInput("存在しない部署が指定されています。")
    if form.role == Role.MANAGER.value and not form.managed_department_ids:
        raise InvalidInput("管理者には、管理する部署を1つ以上選んでください。")


async def create_user(session: AsyncSession, *, actor: User | None, form: UserForm) -> User:
    """Create a person. Every refusal is raised before the first write (the form page is re-shown in the same
    request, whose transaction then commits)."""
    await _check_departments(session, form)
    await _check_unique(session, user_id=None, form=form)
    user = await auth_service.create_user(
        session,
        email=form.email,
        password=None,
        display_name=form.name,
        role=Role(form.role),
        department_id=form.department_id,
        employee_number=form.employee_number,
    )
    await set_managed(session, user=user, department_ids=set(form.managed_department_ids))
    await resync_roster(session, user_ids={user.id}, department_ids=set())
    await audit.record(
        session,
        actor=actor,
        action="user.create",
        target_type="user",
        target_id=user.id,
        summary=f"{user.display_name} を作成({ROLE_LABELS[user.role]})",
        details={"employee_number": user.employee_number, "email": user.email},
    )
    return user


async def update_user(session: AsyncSession, *, actor: User, user_id: int, form: UserForm) -> User:
    """Change a person; as in create_user, every refusal comes before the first write."""
    user = await get_user(session, user_id=user_id)
    if user.id == actor.id and form.role != Role.ADMIN.value:
        raise Forbidden("自分自身の役割はここでは変えられません(管理者がいなくなるのを防ぐため)。")
    await _check_departments(session, form)
    await _check_unique(session, user_id=user.id, form=form)
    changes: dict[str, list[object]] = {}
    for field, new in (
        ("display_name", form.name),
        ("email", form.email),
        ("employee_number", form.employee_number),
        ("department_id", form.department_id),
    ):
        if getattr(user, field) != new:
            changes[field] = [getattr(user, field), new]
            setattr(user, field, new)
    old_role = user.role
    if old_role != form.role:
        user.role = form.role
    if await set_managed(session, user=user, department_ids=set(form.managed_department_ids)):
        changes["managed_department_ids"] = [None, form.managed_department_ids]
    await session.flush()
    if "department_id" in changes:
        old_department = changes["department_id"][0]
        await resync_roster(session, user_ids={user.id}, department_ids={old_department} if old_department else set())
    if old_role != form.role:
        await audit.record(
            session,
            actor=actor,
            action="user.role_change",
            target_type="user",
            target_id=user.id,
            summary=f"{user.display_name} の役割: {ROLE_LABELS[old_role]} → {ROLE_LABELS[form.role]}",
            details={"old": old_role, "new": form.role},
        )
    if changes:
        await audit.record(
            session,
            actor=actor,
            action="user.update",
            target_type="user",
            target_id=user.id,
            summary=f"{user.display_name} の情報を変更({', '.join(changes)})",
            details={key: [str(v) if v is not None else None for v in pair] for key, pair in changes.items()},
        )
    return user


async def set_active(session: AsyncSession, *, actor: User | None, user_id: int, active: bool) -> User:
    """Deactivate (cannot sign in, off the current rosters, history kept) or reactivate someone."""
    user = await get_user(session, user_id=user_id)
    if actor is not None and user.id == actor.id and not active:
        raise Forbidden("自分自身は無効にできません。")
    if user.is_active == active:
        return user
    user.is_active = active
    user.deactivated_at = None if active else utcnow()
    if not active:
        await auth_service.end_all_sessions(session, user_id=user.id)
        await session.execute(
            update(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        await expire_links(session, user_id=user.id)
    await session.flush()
    await resync_roster(session, user_ids={user.id}, department_ids=set())
    action = "user.reactivate" if active else "user.deactivate"
    verb = "再有効化" if active else "無効化"
    await audit.record(
        session,
        actor=actor,
        action=action,
        target_type="user",
        target_id=user.id,
        summary=f"{user.display_name} を{verb}",
    )
    return user
