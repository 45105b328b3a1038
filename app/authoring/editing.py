"""A stored version's files, read back for editing in the browser: its lessons' Markdown, its variables, and the
live preview of a lesson being edited, with the problems the whole pack would then have."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.content import markdown
from app.content import service as content_service
from app.content.errors import ContentError, PackInvalid
from app.content.models import PackFile
from app.content.pack import FRONT_MATTER, load_pack_files
from app.core.errors import Conflict, NotFound


@dataclass
class LessonSource:
    slug: str
    file: str
    title: str
    text: str


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


def lesson_file_text(front_and_body: str) -> str:
    """Browsers send CRLF from a textarea; files are stored with LF."""
    return front_and_body.replace("\r\n", "\n")


def preview_markdown(text: str, *, variables: dict[str, str], resolve: Callable[[str], str]) -> str:
    """Sanitised HTML of a lesson file being edited (front matter removed), for the live preview."""
    match = FRONT_MATTER.match(text)
    body = match.group(2) if match else text
    return markdown.render(markdown.substitute_variables(body, variables), resolve_image=resolve).html


@dataclass
class LessonEditor:
    """One lesson of a stored version, opened for editing."""

    course_slug: str
    version_id: int
    source: LessonSource
    files: dict[str, bytes]

    def preview(self, text: str) -> tuple[str, list[ContentError]]:
        """The lesson as learners would see it with this text, and the problems the whole pack would have."""
        files = dict(self.files)
        files[self.source.file] = lesson_file_text(text).encode("utf-8")
        problems: list[ContentError] = []
        try:
            load_pack_files(files, name=self.course_slug)
        except PackInvalid as error:
            problems = error.errors
        # Only the lesson is edited, so the stored course.yaml holds its variables: taken from the pack being
        # checked, they were lost whenever the text had any problem, and the preview showed {{ name }} instead.
        variables = stored_variables(self.files)
        html = preview_markdown(
            text, variables=variables, resolve=lambda src: content_service.asset_url(self.version_id, src)
        )
        return html, problems


async def open_lesson(session: AsyncSession, *, version_id: int, slug: str) -> LessonEditor:
    """One lesson of a stored version with the version's files, ready to edit; NotFound for another slug."""
    course, version = await content_service.course_of_version(session, version_id=version_id)
    files = await pack_files(session, version_id=version.id)
    source = next((s for s in lesson_sources(files) if s.slug == slug), None)
    if source is None:
        raise NotFound("レッスンが見つかりません。")
    return LessonEditor(course.slug, version.id, source, files)
