"""Publication and rollback of course versions.

A version is a draft until published. Publishing or rolling back only moves `Course.current_version_id`, in one
transaction with the course row locked, so learners switch from one complete version to another and every
attempt stays tied to the version it was taken on. Lesson progress is keyed by slug and carries over. What must
follow a move (learners' standings) is announced as `CurrentVersionChanged`, not called from here.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import User
from app.authoring.events import CurrentVersionChanged
from app.authoring.schemas import Source
from app.content import service as content_service
from app.content.models import Course, CourseVersion
from app.core import events
from app.core.db import utcnow
from app.core.errors import Conflict
from app.lessons.models import Lesson

REREAD_NOTE = "(変更レッスンの再読を要求)"


async def _lesson_html(session: AsyncSession, version_id: int) -> dict[str, str]:
    """Each lesson's HTML, comparable across versions. Image and handout URLs name the version
    (/assets/<id>/…), so without this every lesson with an image counted as changed in every new version,
    and publishing with re-reading sent learners back to lessons whose text had not changed."""
    rows = await session.execute(select(Lesson.slug, Lesson.html).where(Lesson.version_id == version_id))
    # Only an attribute value can start with ="/assets/: quotes in the text are escaped by the renderer.
    own = f'="/assets/{version_id}/'
    return {slug: html.replace(own, '="/assets/~/') for slug, html in rows.all()}


def _changed(old: dict[str, str], new: dict[str, str]) -> list[str]:
    return sorted(slug for slug, html in new.items() if old.get(slug) != html)


async def changed_lessons(session: AsyncSession, *, old_version_id: int | None, new_version_id: int) -> list[str]:
    """Slugs of lessons of the new version whose text differs from the old version (new lessons included)."""
    old = await _lesson_html(session, old_version_id) if old_version_id else {}
    return _changed(old, await _lesson_html(session, new_version_id))


async def _locked_course(session: AsyncSession, version: CourseVersion) -> Course:
    course = await session.scalar(select(Course).where(Course.id == version.course_id).with_for_update())
    assert course is not None  # a version's course cannot be deleted while the version exists
    return course


async def make_current(
    session: AsyncSession, *, version_id: int, actor_id: int | None, reread_changed: bool
) -> tuple[Course, CourseVersion, list[str]]:
    """Make a draft the current version; returns the lessons that changed. With reread_changed, learners must
    read the changed lessons again (lessons that are new in this version need a first reading anyway).
    Not audited: `publish` is the action, this is the step it shares with imports that publish at once."""
    _course, version = await content_service.course_of_version(session, version_id=version_id)
    course = await _locked_course(session, version)
    if version.published_at is not None:
        raise Conflict(
            f"第{version.number}版はすでに公開されています。以前の版に戻すには「この版に戻す」を使ってください。"
        )
    previous = await session.get(CourseVersion, course.current_version_id) if course.current_version_id else None
    newest = await session.scalar(
        select(func.max(CourseVersion.number)).where(
            CourseVersion.course_id == course.id, CourseVersion.published_at.is_not(None)
        )
    )
    if newest is not None and newest > version.number:
        # Its files predate a later publication, so publishing it would silently undo that version's changes
        # (and readings of the later version would wrongly count for it).
        raise Conflict(
            f"この下書き(第{version.number}版)は、その後に公開された第{newest}版より古い内容です。"
            f"第{newest}版をもとに編集し直してください。"
        )
    old_html = await _lesson_html(session, previous.id) if previous else {}
    new_html = await _lesson_html(session, version.id)
    changed = _changed(old_html, new_html)
    since = {slug: n for slug, n in (previous.reread_since if previous else {}).items() if slug in new_html}
    reread = [slug for slug in changed if slug in old_html] if reread_changed else []
    for slug in reread:
        since[slug] = version.number
    version.reread_slugs = reread
    version.reread_since = since
    version.published_at = utcnow()
    version.published_by_id = actor_id
    course.current_version_id = version.id
    await session.flush()
    await events.emit(session, CurrentVersionChanged(course_id=course.id, version_id=version.id))
    return course, version, changed


async def publish(session: AsyncSession, *, version_id: int, actor: User | None, reread_changed: bool) -> list[str]:
    """Publish a draft (see make_current) and record who did it; returns the lessons that changed."""
    course, version, changed = await make_current(
        session, version_id=version_id, actor_id=actor.id if actor else None, reread_changed=reread_changed
    )
    await record_publication(
        session, course=course, version=version, actor=actor, changed=changed, reread_requested=reread_changed
    )
    return changed


async def record_publication(
    session: AsyncSession,
    *,
    course: Course,
    version: CourseVersion,
    actor: User | None,
    changed: list[str],
    reread_requested: bool,
) -> None:
    """The audit entry of a publication, whichever way it was made."""
    await audit.record(
        session,
        actor=actor,
        action="content.publish",
        target_type="course_version",
        target_id=version.id,
        summary=f"{course.slug} 第{version.number}版を公開" + (REREAD_NOTE if reread_requested else ""),
        details={"changed_lessons": changed, "reread": version.reread_slugs},
    )


async def rollback(session: AsyncSession, *, version_id: int, actor: User | None, source: Source) -> CourseVersion:
    """Make an earlier published version current again; nothing is deleted, and it can be undone the same way."""
    _course, version = await content_service.course_of_version(session, version_id=version_id)
    course = await _locked_course(session, version)
    if version.published_at is None:
        raise Conflict("下書きには戻せません。先に公開してください。")
    if course.current_version_id == version.id:
        raise Conflict(f"第{version.number}版はすでに公開中です。")
    previous = course.current_version_id
    course.current_version_id = version.id
    await session.flush()
    await events.emit(session, CurrentVersionChanged(course_id=course.id, version_id=version.id))
    await audit.record(
        session,
        actor=actor,
        action="content.rollback",
        target_type="course_version",
        target_id=version.id,
        summary=f"{course.slug} を第{version.number}版に戻す" + ("(CLI)" if source is Source.CLI else ""),
        details={"from_version_id": previous},
    )
    return version
