"""Reading the catalog: courses, their current versions, and the images and handouts of a version."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import User
from app.content.models import Asset, Course, CourseVersion
from app.core.errors import InvalidInput, NotFound


def asset_url(version_id: int, path: str) -> str:
    return f"/assets/{version_id}/{path}"


async def latest_version(session: AsyncSession, *, course_slug: str) -> CourseVersion | None:
    return await session.scalar(
        select(CourseVersion)
        .join(Course, Course.id == CourseVersion.course_id)
        .where(Course.slug == course_slug)
        .order_by(CourseVersion.number.desc())
        .limit(1)
    )


def _with_current_version_statement(condition: Any) -> Any:
    return (
        select(Course, CourseVersion)
        .join(CourseVersion, CourseVersion.id == Course.current_version_id)
        .where(condition)
    )


# Read on every course page and submission: built once, executed with the slug or id.
COURSE_BY_SLUG = _with_current_version_statement(Course.slug == bindparam("slug"))
COURSE_BY_ID = _with_current_version_statement(Course.id == bindparam("course_id"))


async def _with_current_version(
    session: AsyncSession, statement: Any, values: dict[str, Any]
) -> tuple[Course, CourseVersion]:
    row = (await session.execute(statement, values)).first()
    if row is None:
        raise NotFound("コースが見つかりません。")
    return row[0], row[1]


async def get_course(session: AsyncSession, *, slug: str) -> tuple[Course, CourseVersion]:
    """A course and its current version, or NotFound."""
    return await _with_current_version(session, COURSE_BY_SLUG, {"slug": slug})


async def get_course_by_id(session: AsyncSession, *, course_id: int) -> tuple[Course, CourseVersion]:
    """A course and its current version, or NotFound."""
    return await _with_current_version(session, COURSE_BY_ID, {"course_id": course_id})


async def list_courses(session: AsyncSession) -> list[tuple[Course, CourseVersion]]:
    rows = await session.execute(
        select(Course, CourseVersion)
        .join(CourseVersion, CourseVersion.id == Course.current_version_id)
        .order_by(Course.id)
    )
    return [(course, version) for course, version in rows]


async def get_asset(session: AsyncSession, *, version_id: int, path: str, include_drafts: bool) -> tuple[Asset, bool]:
    """An image or handout and whether its version is published; a draft's files only for those who may
    preview drafts."""
    query = select(Asset, CourseVersion.published_at).join(CourseVersion, CourseVersion.id == Asset.version_id)
    query = query.where(Asset.version_id == version_id, Asset.path == path)
    if not include_drafts:
        query = query.where(CourseVersion.published_at.is_not(None))
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound()
    return row[0], row[1] is not None


async def course_of_version(session: AsyncSession, *, version_id: int) -> tuple[Course, CourseVersion]:
    """A version (draft or published) and its course, or NotFound."""
    row = (
        await session.execute(
            select(Course, CourseVersion)
            .join(CourseVersion, CourseVersion.course_id == Course.id)
            .where(CourseVersion.id == version_id)
        )
    ).first()
    if row is None:
        raise NotFound("版が見つかりません。")
    return row[0], row[1]


async def set_valid_months(session: AsyncSession, *, course_id: int, months: int | None, actor: User) -> Course:
    """How long a completion of the course stays valid; applies to certificates issued from now on."""
    if months is not None and not 1 <= months <= 120:
        raise InvalidInput("有効期間は 1〜120 か月で指定してください(期限なしは空欄)。")
    course = await course_row(session, course_id=course_id)
    course.valid_months = months
    await audit.record(
        session,
        actor=actor,
        action="course.settings",
        target_type="course",
        target_id=course.id,
        summary=f"{course.slug} の修了の有効期間を " + (f"{months}か月" if months else "期限なし") + " に変更",
        details={"valid_months": months},
    )
    return course


MAX_READING_MINUTES = 60


async def set_min_reading(session: AsyncSession, *, course_id: int, minutes: int, actor: User) -> Course:
    """How long each lesson must have been open before 読了 counts (0: no minimum); applies from now on, readings
    already recorded stay as they are."""
    if not 0 <= minutes <= MAX_READING_MINUTES:
        raise InvalidInput(f"最低閲覧時間は 0〜{MAX_READING_MINUTES} 分で指定してください(制限なしは 0)。")
    course = await course_row(session, course_id=course_id)
    if course.min_reading_seconds == minutes * 60:
        return course
    course.min_reading_seconds = minutes * 60
    await audit.record(
        session,
        actor=actor,
        action="course.settings",
        target_type="course",
        target_id=course.id,
        summary=f"{course.slug} の読了に必要な閲覧時間を "
        + (f"{minutes}分以上" if minutes else "制限なし")
        + " に変更",
        details={"min_reading_seconds": minutes * 60},
    )
    return course


async def course_row(session: AsyncSession, *, course_id: int) -> Course:
    """The course row itself, whatever its versions, or NotFound."""
    course = await session.get(Course, course_id)
    if course is None:
        raise NotFound("コースが見つかりません。")
    return course
