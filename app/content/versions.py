"""Drafts, publication, rollback and comparison of course versions.

A version is a draft until published. Publishing or rolling back only moves `Course.current_version_id`, in one
transaction with the course row locked, so learners switch from one complete version to another and every
attempt stays tied to the version it was taken on. Lesson progress is keyed by slug and carries over.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Literal

import yaml
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.content import markdown
from app.content.archive import read_pack_archive
from app.content.errors import ContentError, PackInvalid
from app.content.models import Course, CourseVersion, PackFile
from app.content.pack import FRONT_MATTER, Pack, load_pack_files
from app.core.db import utcnow
from app.core.errors import Conflict, NotFound
from app.lessons.models import Lesson
from app.progress.models import CourseStatus


@dataclass
class VersionRow:
    version: CourseVersion
    is_current: bool
    created_by: str | None
    published_by: str | None


@dataclass
class DiffLine:
    kind: Literal["context", "added", "removed", "hunk"]
    text: str


@dataclass
class LessonDiff:
    slug: str
    title: str
    status: Literal["added", "removed", "changed", "same"]
    lines: list[DiffLine] = field(default_factory=list)


@dataclass
class LessonSource:
    slug: str
    file: str
    title: str
    text: str


async def get_version(session: AsyncSession, *, version_id: int) -> tuple[Course, CourseVersion]:
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


async def publish(session: AsyncSession, *, version_id: int, actor_id: int | None, reread_changed: bool) -> list[str]:
    """Make a draft the current version; returns the lessons that changed. With reread_changed, learners must
    read the changed lessons again (lessons that are new in this version need a first reading anyway)."""
    _course, version = await get_version(session, version_id=version_id)
    course = await session.scalar(select(Course).where(Course.id == version.course_id).with_for_update())
    assert course is not None
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
    await refresh_learners(session, course=course, version=version)
    return changed


async def rollback(session: AsyncSession, *, version_id: int, actor_id: int | None) -> CourseVersion:
    """Make an earlier published version current again; nothing is deleted, and it can be undone the same way."""
    _course, version = await get_version(session, version_id=version_id)
    course = await session.scalar(select(Course).where(Course.id == version.course_id).with_for_update())
    assert course is not None
    if version.published_at is None:
        raise Conflict("下書きには戻せません。先に公開してください。")
    if course.current_version_id == version.id:
        raise Conflict(f"第{version.number}版はすでに公開中です。")
    course.current_version_id = version.id
    await session.flush()
    await refresh_learners(session, course=course, version=version)
    return version


async def discard_draft(session: AsyncSession, *, version_id: int) -> CourseVersion:
    _course, version = await get_version(session, version_id=version_id)
    if version.published_at is not None:
        raise Conflict("公開したことのある版は削除できません(記録として残ります)。")
    await session.execute(delete(CourseVersion).where(CourseVersion.id == version.id))
    await session.flush()
    return version


async def refresh_learners(session: AsyncSession, *, course: Course, version: CourseVersion) -> int:
    """Recompute the standing of every learner who has started and not completed the course, so dashboards
    reflect added, removed or to-be-reread lessons at once. Completions are history and never move."""
    from app.progress import service as progress_service

    user_ids = list(
        await session.scalars(
            select(CourseStatus.user_id).where(CourseStatus.course_id == course.id, CourseStatus.completed_at.is_(None))
        )
    )
    for user_id in user_ids:
        await progress_service.refresh(session, user_id=user_id, course=course, version=version)
    return len(user_ids)


async def stored_paths(session: AsyncSession, *, version_id: int) -> list[str]:
    """The paths of a version's stored pack files, without reading the files (PDF handouts can be large)."""
    return sorted(await session.scalars(select(PackFile.path).where(PackFile.version_id == version_id)))


async def pack_files(session: AsyncSession, *, version_id: int) -> dict[str, bytes]:
    rows = await session.execute(select(PackFile.path, PackFile.data).where(PackFile.version_id == version_id))
    files = dict(rows.all())
    if not files:
        raise Conflict(
            "この版には元のファイルが保存されていません(以前の取り込み方式の版です)。ZIP で取り込み直してください。"
        )
    return files


def lesson_sources(files: dict[str, bytes]) -> list[LessonSource]:
    """Each lesson and appendix of a stored (already validated) pack, with its Markdown source."""
    course = yaml.safe_load(files["course.yaml"].decode("utf-8")) or {}
    sources: list[LessonSource] = []
    for entry in list(course.get("lessons", [])) + list(course.get("appendices", [])):
        text = files.get(entry["file"], b"").decode("utf-8")
        match = FRONT_MATTER.match(text)
        front = yaml.safe_load(match.group(1)) if match else {}
        sources.append(LessonSource(entry["slug"], entry["file"], str((front or {}).get("title", entry["slug"])), text))
    return sources


def stored_variables(files: dict[str, bytes]) -> dict[str, str]:
    """The variables of a stored (already validated) pack's course.yaml."""
    course = yaml.safe_load(files["course.yaml"].decode("utf-8")) or {}
    return {str(key): str(value) for key, value in (course.get("variables") or {}).items()}


def diff_sources(old: list[LessonSource], new: list[LessonSource]) -> list[LessonDiff]:
    """Line diff of every lesson's Markdown between two versions, in the newer version's order."""
    old_by_slug = {source.slug: source for source in old}
    new_slugs = {source.slug for source in new}
    diffs: list[LessonDiff] = []
    for source in new:
        before = old_by_slug.get(source.slug)
        if before is None:
            diffs.append(
                LessonDiff(
                    source.slug,
                    source.title,
                    "added",
                    _lines(difflib.unified_diff([], source.text.splitlines(), lineterm="", n=2)),
                )
            )
        elif before.text == source.text:
            diffs.append(LessonDiff(source.slug, source.title, "same"))
        else:
            diffs.append(
                LessonDiff(
                    source.slug,
                    source.title,
                    "changed",
                    _lines(difflib.unified_diff(before.text.splitlines(), source.text.splitlines(), lineterm="", n=2)),
                )
            )
    for source in old:
        if source.slug not in new_slugs:
            diffs.append(LessonDiff(source.slug, source.title, "removed"))
    return diffs


def _lines(unified: object) -> list[DiffLine]:
    lines: list[DiffLine] = []
    for raw in unified:  # type: ignore[attr-defined]
        if raw.startswith(("---", "+++")):
            continue
        if raw.startswith("@@"):
            lines.append(DiffLine("hunk", raw))
        elif raw.startswith("+"):
            lines.append(DiffLine("added", raw[1:]))
        elif raw.startswith("-"):
            lines.append(DiffLine("removed", raw[1:]))
        else:
            lines.append(DiffLine("context", raw[1:]))
    return lines


async def compare(session: AsyncSession, *, old_version_id: int, new_version_id: int) -> list[LessonDiff]:
    old_course, _ = await get_version(session, version_id=old_version_id)
    new_course, _ = await get_version(session, version_id=new_version_id)
    if old_course.id != new_course.id:
        raise NotFound("同じコースの版どうしを選んでください。")
    old = lesson_sources(await pack_files(session, version_id=old_version_id))
    new = lesson_sources(await pack_files(session, version_id=new_version_id))
    return diff_sources(old, new)


def pack_from_zip(data: bytes) -> Pack:
    """Validate an uploaded .zip completely (archive safety, then the pack itself)."""
    return load_pack_files(read_pack_archive(data), name="upload.zip")


async def draft_with_file(
    session: AsyncSession, *, base_version_id: int, path: str, data: bytes, actor_id: int | None, note: str = ""
) -> CourseVersion:
    """A new draft: the base version's files with one lesson or quiz file replaced, validated as a whole pack."""
    from app.content import service

    course, _base = await get_version(session, version_id=base_version_id)
    files = await pack_files(session, version_id=base_version_id)
    if path not in files or not path.endswith((".md", ".yaml", ".yml")):
        raise PackInvalid(
            [
                ContentError(
                    file=path,
                    line=None,
                    message="置き換えられるのはこの版のレッスン(.md)かテスト(.yaml)のファイルだけです",
                )
            ]
        )
    files[path] = data
    pack = load_pack_files(files, name=course.slug)
    if pack.course.slug != course.slug:
        raise PackInvalid([ContentError(file="course.yaml", line=None, message="slug は変えられません")])
    return await service.store_pack(session, pack=pack, actor_id=actor_id, note=note)


def lesson_file_text(front_and_body: str) -> str:
    """Browsers send CRLF from a textarea; files are stored with LF."""
    return front_and_body.replace("\r\n", "\n")


def preview_markdown(text: str, *, variables: dict[str, str], resolve: object) -> str:
    """Sanitised HTML of a lesson file being edited (front matter removed), for the live preview."""
    match = FRONT_MATTER.match(text)
    body = match.group(2) if match else text
    return markdown.render(markdown.substitute_variables(body, variables), resolve_image=resolve).html  # type: ignore[arg-type]
