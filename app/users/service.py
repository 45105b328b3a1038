"""Managing people: create, edit, deactivate, one-time password links, and the HR CSV import.

Every change that moves someone between departments or in or out of the active roster also brings their
enrollments and the dashboard counters up to date, in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import service as auth_service
from app.auth.models import ApiToken, Role, User
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.org import service as org_service
from app.org.models import Department, ManagedDepartment
from app.users import csv_import
from app.users.models import PasswordSetToken, UserImport
from app.users.schemas import UserForm

ROLE_LABELS = {Role.LEARNER.value: "受講者", Role.MANAGER.value: "管理者", Role.ADMIN.value: "システム管理者"}
LINK_DAYS = 14


@dataclass
class IssuedLink:
    user: User
    url: str
    expires_at: datetime
    mailed: bool


@dataclass
class UserRow:
    user: User
    department: str | None
    has_password: bool


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def department_paths(session: AsyncSession) -> dict[int, str]:
    """Every department's name path (本社/営業部/第一課) by id."""
    departments = list(await session.scalars(select(Department).order_by(Department.path)))
    names = {d.id: d.name for d in departments}
    return {d.id: "/".join(names[int(i)] for i in d.path.strip("/").split("/") if i) for d in departments}


async def list_users(
    session: AsyncSession, *, text: str = "", role: str = "", status: str = "", page: int = 1, per_page: int = 50
) -> tuple[list[UserRow], int]:
    query = select(User)
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


async def _set_managed(session: AsyncSession, *, user: User, department_ids: set[int]) -> bool:
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
    from app.assignments.models import Assignment
    from app.assignments.service import sync_roster
    from app.dashboard import stats

    if not user_ids:
        return
    course_ids = set(await session.scalars(select(Assignment.course_id).distinct()))
    from app.progress.models import Enrollment

    course_ids |= set(
        await session.scalars(select(Enrollment.course_id).where(Enrollment.user_id.in_(user_ids)).distinct())
    )
    now_in = set(await session.scalars(select(User.department_id).where(User.id.in_(user_ids)).distinct()))
    departments = sorted(d for d in department_ids | now_in if d is not None)
    for course_id in sorted(course_ids):
        await sync_roster(session, course_id=course_id, user_ids=sorted(user_ids))
        await stats.recount_roster(session, course_id=course_id, department_ids=departments)


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
    await _set_managed(session, user=user, department_ids=set(form.managed_department_ids))
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
    if await _set_managed(session, user=user, department_ids=set(form.managed_department_ids)):
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
        await _expire_links(session, user_id=user.id)
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


async def _expire_links(session: AsyncSession, *, user_id: int) -> None:
    await session.execute(
        update(PasswordSetToken)
        .where(PasswordSetToken.user_id == user_id, PasswordSetToken.used_at.is_(None))
        .values(expires_at=utcnow())
    )


async def issue_password_link(
    session: AsyncSession, *, actor: User | None, user: User, settings: Settings, mail: bool = True
) -> IssuedLink:
    """A new one-time link (older unused ones stop working); mailed through the outbox when the person has an
    e-mail address."""
    from app.mail import service as mail_service

    if not user.is_active:
        raise Conflict("無効なユーザーにはリンクを発行できません。先に有効にしてください。")
    await _expire_links(session, user_id=user.id)
    token = secrets.token_urlsafe(24)
    expires_at = utcnow() + timedelta(days=LINK_DAYS)
    session.add(
        PasswordSetToken(
            user_id=user.id,
            token_hash=_token_hash(token),
            created_by_id=actor.id if actor else None,
            expires_at=expires_at,
        )
    )
    url = f"{settings.base_url.rstrip('/')}/password/{token}"
    mailed = False
    if mail and user.email:
        body = (
            f"{user.display_name} さん\n\nカスハラ対策研修のパスワードを設定してください。次のリンクは1回だけ、"
            f"{expires_at:%Y年%m月%d日}まで使えます。\n\n{url}\n\n心当たりがない場合は、このメールを破棄してください。\n"
        )
        await mail_service.send(
            session,
            settings=settings,
            to_address=user.email,
            subject="【カスハラ対策研修】パスワードの設定",
            body=body,
            to_user_id=user.id,
        )
        mailed = True
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="user.password_link",
        target_type="user",
        target_id=user.id,
        summary=f"{user.display_name} にパスワード設定リンクを発行" + ("(メール送信)" if mailed else ""),
    )
    return IssuedLink(user, url, expires_at, mailed)


async def user_for_link(session: AsyncSession, *, token: str) -> User | None:
    """The person a still-valid link belongs to, or None."""
    return await session.scalar(
        select(User)
        .join(PasswordSetToken, PasswordSetToken.user_id == User.id)
        .where(
            PasswordSetToken.token_hash == _token_hash(token),
            PasswordSetToken.used_at.is_(None),
            PasswordSetToken.expires_at > utcnow(),
            User.is_active.is_(True),
        )
    )


async def redeem_link(session: AsyncSession, *, token: str, password: str) -> User:
    """Set the password through a link, exactly once: the claim is one conditional UPDATE, so two submissions
    racing on two workers cannot both succeed."""
    user = await user_for_link(session, token=token)
    if user is None:
        raise NotFound("このリンクは使えません(使用済みか期限切れです)。管理者に新しいリンクを依頼してください。")
    problem = auth_service.password_problem(password, user=user)
    if problem:
        raise InvalidInput(problem)
    claimed = await session.execute(
        update(PasswordSetToken)
        .where(PasswordSetToken.token_hash == _token_hash(token), PasswordSetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise NotFound("このリンクはすでに使われました。")
    await auth_service.set_password(session, user=user, password=password)
    return user


async def slips_for(
    session: AsyncSession, *, actor: User, user_ids: list[int], settings: Settings
) -> list[tuple[IssuedLink, str | None]]:
    """Fresh links for printed slips (one per person), with each person's department."""
    paths = await department_paths(session)
    users = list(
        await session.scalars(
            select(User).where(User.id.in_(user_ids), User.is_active.is_(True)).order_by(User.employee_number, User.id)
        )
    )
    if not users:
        raise InvalidInput("印刷する社員を選んでください(無効なユーザーは選べません)。")
    return [
        (
            await issue_password_link(session, actor=actor, user=user, settings=settings, mail=False),
            paths.get(user.department_id or 0),
        )
        for user in users
    ]


async def users_without_password(session: AsyncSession, *, department_id: int | None) -> list[int]:
    query = select(User.id).where(User.password_hash.is_(None), User.is_active.is_(True))
    if department_id:
        department = await session.get(Department, department_id)
        if department is None:
            raise NotFound("部署が見つかりません。")
        query = query.join(Department, Department.id == User.department_id).where(
            Department.path.startswith(department.path)
        )
    return list(await session.scalars(query.order_by(User.employee_number)))


# --- CSV import ------------------------------------------------------------------------------------------------


async def snapshot(session: AsyncSession) -> list[csv_import.ExistingUser]:
    paths = await department_paths(session)
    managed: dict[int, list[str]] = {}
    for user_id, department_id in await session.execute(
        select(ManagedDepartment.user_id, ManagedDepartment.department_id)
    ):
        managed.setdefault(user_id, []).append(paths[department_id])
    users = await session.scalars(select(User).order_by(User.id))
    return [
        csv_import.ExistingUser(
            id=u.id,
            employee_number=u.employee_number,
            email=u.email,
            name=u.display_name,
            department=paths.get(u.department_id) if u.department_id else None,
            role=u.role,
            is_active=u.is_active,
            managed_departments=tuple(sorted(managed.get(u.id, []))),
        )
        for u in users
    ]


async def store_upload(
    session: AsyncSession, *, actor: User, filename: str, data: bytes, deactivate_missing: bool
) -> UserImport:
    upload = UserImport(
        uploaded_by_id=actor.id,
        filename=filename[:255] or "upload.csv",
        data=data,
        deactivate_missing=deactivate_missing,
    )
    session.add(upload)
    await session.flush()
    return upload


async def get_upload(session: AsyncSession, *, import_id: int) -> UserImport:
    upload = await session.get(UserImport, import_id)
    if upload is None:
        raise NotFound("取り込みが見つかりません。もう一度ファイルを選んでください。")
    return upload


async def plan_upload(
    session: AsyncSession, *, upload: UserImport, acting_user_id: int | None
) -> csv_import.ImportPlan:
    parsed = csv_import.parse_employee_csv(upload.data)
    return csv_import.plan_import(
        parsed, await snapshot(session), deactivate_missing=upload.deactivate_missing, acting_user_id=acting_user_id
    )


async def apply_plan(session: AsyncSession, *, plan: csv_import.ImportPlan, actor: User | None, source: str) -> None:
    """Carry out a checked plan: all of it or (when the caller's transaction rolls back) none of it."""
    if not plan.ok:
        raise InvalidInput(f"CSV に {len(plan.errors)} 件の問題があります。直してからもう一度取り込んでください。")
    department_cache: dict[str, int] = {}

    async def department_id(path: str | None) -> int | None:
        if not path:
            return None
        if path not in department_cache:
            department_cache[path] = (await org_service.ensure_path(session, path=path)).id
        return department_cache[path]

    # Free e-mail addresses first, so addresses can move between people (or to a new person) within one file.
    updates = [change for change in plan.updates if change.user_id is not None and change.row is not None]
    for change in updates:
        if any(field.field == "email" for field in change.changes):
            await session.execute(update(User).where(User.id == change.user_id).values(email=None))
    await session.flush()
    touched: set[int] = set()
    old_departments: set[int] = set()
    for change in plan.creates:
        row = change.row
        assert row is not None
        user = await auth_service.create_user(
            session,
            email=row.email,
            password=None,
            display_name=row.name,
            role=Role(row.role),
            department_id=await department_id(row.department),
            employee_number=row.employee_number,
        )
        await _set_managed(session, user=user, department_ids={await department_id(p) or 0 for p in _managed(row)})
        touched.add(user.id)
    for change in updates:
        row = change.row
        assert row is not None and change.user_id is not None
        user = await get_user(session, user_id=change.user_id)
        if user.department_id:
            old_departments.add(user.department_id)
        user.display_name, user.email, user.role = row.name, row.email, row.role
        user.department_id = await department_id(row.department)
        if not user.is_active:
            user.is_active, user.deactivated_at = True, None
        await _set_managed(session, user=user, department_ids={await department_id(p) or 0 for p in _managed(row)})
        touched.add(user.id)
    for change in plan.deactivations:
        assert change.user_id is not None
        user = await get_user(session, user_id=change.user_id)
        user.is_active, user.deactivated_at = False, utcnow()
        await auth_service.end_all_sessions(session, user_id=user.id)
        await _expire_links(session, user_id=user.id)
        if user.department_id:
            old_departments.add(user.department_id)
        touched.add(user.id)
    await session.flush()
    await resync_roster(session, user_ids=touched, department_ids=old_departments)
    await audit.record(
        session,
        actor=actor,
        action="users.import",
        target_type="import",
        target_id=None,
        summary=f"社員 CSV({source})を取り込み: 作成 {len(plan.creates)}、更新 {len(plan.updates)}、"
        f"無効化 {len(plan.deactivations)}",
        details={
            "digest": plan.digest(),
            "creates": len(plan.creates),
            "updates": len(plan.updates),
            "deactivations": [c.employee_number for c in plan.deactivations],
        },
    )


def _managed(row: csv_import.CsvRow) -> list[str]:
    return list(row.managed_departments)


async def apply_upload(session: AsyncSession, *, actor: User, import_id: int, digest: str) -> csv_import.ImportPlan:
    """Apply a previewed upload, provided the plan is still the one the admin saw."""
    upload = await get_upload(session, import_id=import_id)
    if upload.applied_at is not None:
        raise Conflict("この CSV はすでに取り込み済みです。")
    plan = await plan_upload(session, upload=upload, acting_user_id=actor.id)
    if plan.digest() != digest:
        raise Conflict("確認した後にユーザー情報が変わったため、内容が変わりました。もう一度確認してください。")
    await apply_plan(session, plan=plan, actor=actor, source=upload.filename)
    claimed = await session.execute(
        update(UserImport)
        .where(UserImport.id == upload.id, UserImport.applied_at.is_(None))
        .values(applied_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise Conflict("この CSV はすでに取り込み済みです。")
    return plan
