"""What コンテンツ管理 lists: every course with its newest and current version, and a course's versions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.content.models import Course, CourseVersion
from app.core.errors import NotFound


@dataclass
class VersionRow:
    version: CourseVersion
    is_current: bool
    created_by: str | None
    published_by: str | None


async def list_courses_for_admin(session: AsyncSession) -> list[tuple[Course, CourseVersion, CourseVersion | None]]:
    """Every course with its newest version and its current (published) one, drafts-only courses included."""
    courses = list(await session.scalars(select(Course).order_by(Course.id)))
    result: list[tuple[Course, CourseVersion, CourseVersion | None]] = []
    for course in courses:
        latest = await session.scalar(
            select(CourseVersion).where(CourseVersion.course_id == course.id).order_by(CourseVersion.number.desc())
        )
        if latest is None:
            continue
        current = await session.get(CourseVersion, course.current_version_id) if course.current_version_id else None
        result.append((course, latest, current))
    return result


async def list_versions(session: AsyncSession, *, course_id: int) -> list[VersionRow]:
    course = await session.get(Course, course_id)
    if course is None:
        raise NotFound("コースが見つかりません。")
    versions = list(
        await session.scalars(
            select(CourseVersion).where(CourseVersion.course_id == course_id).order_by(CourseVersion.number.desc())
        )
    )
    user_ids = {v.created_by_id for v in versions} | {v.published_by_id for v in versions}
    rows = await session.execute(select(User.id, User.display_name).where(User.id.in_([i for i in user_ids if i])))
    names: dict[int, str] = {user_id: name for user_id, name in rows}
    return [
        VersionRow(
            v, v.id == course.current_version_id, names.get(v.created_by_id or 0), names.get(v.published_by_id or 0)
        )
        for v in versions
    ]
