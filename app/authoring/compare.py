"""Comparing two versions of a course: a line diff of every lesson's Markdown."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from app.authoring.editing import LessonSource, lesson_sources, pack_files
from app.content import service as content_service
from app.core.errors import NotFound


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


def _lines(unified: Iterable[str]) -> list[DiffLine]:
    lines: list[DiffLine] = []
    for raw in unified:
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


def _diff(before: str, after: str) -> list[DiffLine]:
    return _lines(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=2))


def diff_sources(old: list[LessonSource], new: list[LessonSource]) -> list[LessonDiff]:
    """Line diff of every lesson's Markdown between two versions, in the newer version's order."""
    old_by_slug = {source.slug: source for source in old}
    new_slugs = {source.slug for source in new}
    diffs: list[LessonDiff] = []
    for source in new:
        before = old_by_slug.get(source.slug)
        if before is None:
            diffs.append(LessonDiff(source.slug, source.title, "added", _diff("", source.text)))
        elif before.text == source.text:
            diffs.append(LessonDiff(source.slug, source.title, "same"))
        else:
            diffs.append(LessonDiff(source.slug, source.title, "changed", _diff(before.text, source.text)))
    for source in old:
        if source.slug not in new_slugs:
            diffs.append(LessonDiff(source.slug, source.title, "removed"))
    return diffs


async def compare(session: AsyncSession, *, old_version_id: int, new_version_id: int) -> list[LessonDiff]:
    old_course, _ = await content_service.course_of_version(session, version_id=old_version_id)
    new_course, _ = await content_service.course_of_version(session, version_id=new_version_id)
    if old_course.id != new_course.id:
        raise NotFound("同じコースの版どうしを選んでください。")
    old = lesson_sources(await pack_files(session, version_id=old_version_id))
    new = lesson_sources(await pack_files(session, version_id=new_version_id))
    return diff_sources(old, new)
