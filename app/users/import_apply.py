"""The HR CSV import against the database: snapshot the users, keep the uploaded file, plan it, apply the plan.

Parsing and planning are pure (`csv_reader`, `import_plan`); applying, like every change in `service`, also brings
enrollments and the dashboard counters up to date, in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth import service as auth_service
from app.auth.models import Role, User
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.org import service as org_service
from app.org.models import ManagedDepartment
from app.users import csv_reader, import_plan, service
from app.users.links import expire_links
from app.users.models import UserImport


async def snapshot(session: AsyncSession) -> list[import_plan.ExistingUser]:
    paths = await org_service.department_paths(session)
    managed: dict[int, list[str]] = {}
    for user_id, department_id in await session.execute(
        select(ManagedDepartment.user_id, ManagedDepartment.department_id)
    ):
        managed.setdefault(user_id, []).append(paths[department_id])
    users = await session.scalars(select(User).order_by(User.id))
    return [
        import_plan.ExistingUser(
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
) -> import_plan.ImportPlan:
    parsed = csv_reader.parse_employee_csv(upload.data)
    return import_plan.plan_import(
        parsed, await snapshot(session), deactivate_missing=upload.deactivate_missing, acting_user_id=acting_user_id
    )


async def apply_plan(session: AsyncSession, *, plan: import_plan.ImportPlan, actor: User | None, source: str) -> None:
    """Carry out a checked plan: all of it or (when the caller's transaction rolls back) none of it."""
    if not plan.ok:
        raise InvalidInput(f"CSV に {len(plan.errors)} 件の問題があります。直してからもう一度取り込んでください。")
    await apply_changes(session, plan=plan)
    await record_import(
        session,
        actor=actor,
        source=source,
        digest=plan.digest(),
        creates=len(plan.creates),
        updates=len(plan.updates),
        deactivated=[c.employee_number for c in plan.deactivations],
    )


async def record_import(
    session: AsyncSession,
    *,
    actor: User | None,
    source: str,
    digest: str,
    creates: int,
    updates: int,
    deactivated: list[str],
) -> None:
    await audit.record(
        session,
        actor=actor,
        action="users.import",
        target_type="import",
        target_id=None,
        summary=f"社員 CSV({source})を取り込み: 作成 {creates}、更新 {updates}、無効化 {len(deactivated)}",
        details={"digest": digest, "creates": creates, "updates": updates, "deactivations": deactivated},
    )


async def apply_changes(session: AsyncSession, *, plan: import_plan.ImportPlan) -> None:
    """Store the plan's changes (or a part of a plan: see app/users/import_jobs.py), with enrollments and
    counters brought up to date."""
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
    # The plan was checked against this transaction's own snapshot, so new people are inserted in one batch (the
    # unique constraints still guard against anything that slipped in since): 10,000 rows in seconds, not minutes.
    created: list[tuple[User, import_plan.PlannedChange]] = []
    for change in plan.creates:
        row = change.row
        assert row is not None
        user = User(
            email=row.email,
            employee_number=row.employee_number,
            display_name=row.name,
            password_hash=None,
            role=Role(row.role).value,
            is_active=True,
            department_id=await department_id(row.department),
        )
        session.add(user)
        created.append((user, change))
    await session.flush()
    for user, change in created:
        assert change.row is not None
        for path in _managed(change.row):
            session.add(ManagedDepartment(user_id=user.id, department_id=await department_id(path)))
        touched.add(user.id)
    for change in updates:
        row = change.row
        assert row is not None and change.user_id is not None
        user = await service.get_user(session, user_id=change.user_id)
        if user.department_id:
            old_departments.add(user.department_id)
        user.display_name, user.email, user.role = row.name, row.email, row.role
        user.department_id = await department_id(row.department)
        if not user.is_active:
            user.is_active, user.deactivated_at = True, None
        if any(field.field == "managed_departments" for field in change.changes):
            managed = {await department_id(path) or 0 for path in _managed(row)}
            await service.set_managed(session, user=user, department_ids=managed)
        touched.add(user.id)
    leaving = [change.user_id for change in plan.deactivations if change.user_id is not None]
    if leaving:
        old_departments |= set(
            await session.scalars(
                select(User.department_id).where(User.id.in_(leaving), User.department_id.is_not(None)).distinct()
            )
        )
        await session.execute(update(User).where(User.id.in_(leaving)).values(is_active=False, deactivated_at=utcnow()))
        for user_id in leaving:
            await auth_service.end_all_sessions(session, user_id=user_id)
            await expire_links(session, user_id=user_id)
        touched |= set(leaving)
    await session.flush()
    await service.resync_roster(session, user_ids=touched, department_ids=old_departments)


def _managed(row: csv_reader.CsvRow) -> list[str]:
    return list(row.managed_departments)


async def check_upload(
    session: AsyncSession, *, actor: User, import_id: int, digest: str
) -> tuple[UserImport, import_plan.ImportPlan]:
    """The upload and its plan, provided the plan is still the one the admin saw and can be applied."""
    upload = await get_upload(session, import_id=import_id)
    if upload.applied_at is not None:
        raise Conflict("この CSV はすでに取り込み済みです。")
    plan = await plan_upload(session, upload=upload, acting_user_id=actor.id)
    if plan.digest() != digest:
        raise Conflict("確認した後にユーザー情報が変わったため、内容が変わりました。もう一度確認してください。")
    if not plan.ok:
        raise InvalidInput(f"CSV に {len(plan.errors)} 件の問題があります。直してからもう一度取り込んでください。")
    return upload, plan


async def mark_applied(session: AsyncSession, *, upload: UserImport) -> None:
    claimed = await session.execute(
        update(UserImport)
        .where(UserImport.id == upload.id, UserImport.applied_at.is_(None))
        .values(applied_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise Conflict("この CSV はすでに取り込み済みです。")
