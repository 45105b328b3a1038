"""Departments and who manages them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User
from app.core.errors import Forbidden, NotFound
from app.org.models import Department, ManagedDepartment
from app.org.scope import EVERYTHING, NOTHING, Scope


async def create_department(session: AsyncSession, *, name: str, parent: Department | None = None) -> Department:
    department = Department(name=name, parent_id=parent.id if parent else None)
    session.add(department)
    await session.flush()
    department.path = f"{parent.path if parent else '/'}{department.id}/"
    await session.flush()
    return department


async def ensure_path(session: AsyncSession, *, path: str) -> Department:
    """The department at a slash-separated path of names (本社/営業部/第一課), creating missing levels."""
    parent: Department | None = None
    for name in [part.strip() for part in path.split("/") if part.strip()]:
        parent_filter = Department.parent_id.is_(None) if parent is None else Department.parent_id == parent.id
        found = await session.scalar(select(Department).where(Department.name == name, parent_filter))
        parent = found or await create_department(session, name=name, parent=parent)
    if parent is None:
        raise NotFound("部署が指定されていません。")
    return parent


async def manage(session: AsyncSession, *, user: User, department: Department) -> None:
    session.add(ManagedDepartment(user_id=user.id, department_id=department.id))
    await session.flush()


async def scope_for(session: AsyncSession, *, user: User) -> Scope:
    """Admins see everything; managers their departments' subtrees; learners nothing."""
    if user.role == Role.ADMIN.value:
        return EVERYTHING
    if user.role != Role.MANAGER.value:
        return NOTHING
    paths = await session.scalars(
        select(Department.path)
        .join(ManagedDepartment, ManagedDepartment.department_id == Department.id)
        .where(ManagedDepartment.user_id == user.id)
        .order_by(Department.path)
    )
    return Scope(everything=False, paths=tuple(paths))


async def departments_in_scope(session: AsyncSession, *, scope: Scope) -> list[Department]:
    """Departments the scope covers, in tree order (a path sorts after its parent)."""
    result = await session.scalars(
        select(Department).where(scope.department_filter(Department.path)).order_by(Department.path)
    )
    return list(result)


async def get_department_in_scope(session: AsyncSession, *, department_id: int, scope: Scope) -> Department:
    department = await session.scalar(
        select(Department).where(Department.id == department_id, scope.department_filter(Department.path))
    )
    if department is None:
        raise NotFound("部署が見つかりません。")
    return department


async def manager_scope_for(session: AsyncSession, *, user: User, refusal: str) -> Scope:
    """The scope of a manager or admin; Forbidden (with `refusal`) for anyone who manages nothing."""
    scope = await scope_for(session, user=user)
    if scope.is_empty:
        raise Forbidden(refusal)
    return scope


async def department_name(session: AsyncSession, *, department_id: int | None) -> str | None:
    """The department's name (None for no department)."""
    if department_id is None:
        return None
    return await session.scalar(select(Department.name).where(Department.id == department_id))


async def department_paths(session: AsyncSession) -> dict[int, str]:
    """Every department's name path (本社/営業部/第一課) by id."""
    departments = list(await session.scalars(select(Department).order_by(Department.path)))
    names = {d.id: d.name for d in departments}
    return {d.id: "/".join(names[int(i)] for i in d.path.strip("/").split("/") if i) for d in departments}
