"""New versions of a course: a whole pack stored as a draft (from a folder, a .zip, or a base version with one
file replaced or one lesson edited), discarded drafts, and imports that publish at once. Every action that an
admin or the command line takes is recorded in the audit trail here, with where it came from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import User
from app.authoring import editing
from app.authoring.publication import make_current, record_publication
from app.authoring.schemas import Source
from app.content import markdown
from app.content import service as content_service
from app.content.archive import read_pack_archive
from app.content.errors import ContentError, PackInvalid
from app.content.models import Asset, Course, CourseVersion, PackFile
from app.content.pack import FRONT_MATTER, Pack, load_pack_files
from app.core.errors import Conflict
from app.lessons.models import Lesson
from app.quiz.models import Quiz
from app.quiz.schemas import QuizFile

# How the audit trail names where an import came from (a .zip uploaded in コンテンツ管理 is audited by upload_zip).
IMPORTED_VIA = {Source.CLI: "lms content import", Source.DOCUMENTS: "方針・マニュアルの公開", Source.WEB: "管理画面"}


def _substitute(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str):
        return markdown.substitute_variables(value, variables)
    if isinstance(value, list):
        return [_substitute(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, variables) for key, item in value.items()}
    return value


def _question_record(definition: dict[str, Any], variables: dict[str, str]) -> dict[str, Any]:
    """The stored form of a question: its definition, plus its Markdown fields rendered to safe HTML."""
    definition = _substitute(definition, variables)
    html = {
        name: markdown.render_inline_block(definition[name])
        for name in ("prompt", "scene", "explanation")
        if definition.get(name)
    }
    return {"def": definition, "html": html}


def _quiz_row(version_id: int, lesson_slug: str, quiz: QuizFile, variables: dict[str, str]) -> Quiz:
    return Quiz(
        version_id=version_id,
        lesson_slug=lesson_slug,
        title=quiz.title,
        pass_mark=quiz.pass_mark,
        max_attempts=quiz.max_attempts,
        draw=quiz.draw,
        shuffle_questions=quiz.shuffle_questions,
        shuffle_choices=quiz.shuffle_choices,
        partial_credit=quiz.partial_credit,
        questions=[_question_record(q.model_dump(mode="json"), variables) for q in quiz.questions],
    )


async def store_pack(
    session: AsyncSession, *, pack: Pack, actor_id: int | None = None, note: str = ""
) -> CourseVersion:
    """Store the pack as the course's next version, as a draft: learners see nothing of it until published."""
    spec = pack.course
    course = await session.scalar(select(Course).where(Course.slug == spec.slug).with_for_update())
    if course is None:
        course = Course(slug=spec.slug)
        session.add(course)
        await session.flush()
    number = await session.scalar(select(func.max(CourseVersion.number)).where(CourseVersion.course_id == course.id))
    version = CourseVersion(
        course_id=course.id,
        number=(number or 0) + 1,
        title=spec.title,
        description=spec.description,
        completion=spec.completion.model_dump(),
        misconceptions={
            key: _substitute(value.model_dump(), spec.variables) for key, value in spec.misconceptions.items()
        },
        source_hash=pack.source_hash,
        created_by_id=actor_id,
        note=note.strip(),
        reread_slugs=[],
        reread_since={},
    )
    session.add(version)
    await session.flush()

    for path, data in sorted(pack.files.items()):
        session.add(PackFile(version_id=version.id, path=path, data=data))
    for path, asset in pack.assets.items():
        session.add(Asset(version_id=version.id, path=path, content_type=asset.content_type, data=asset.data))

    all_questions: list[dict[str, Any]] = []
    for position, lesson in enumerate(pack.lessons):
        body = markdown.substitute_variables(lesson.body, spec.variables)
        rendered = markdown.render(body, resolve_image=lambda src, v=version.id: content_service.asset_url(v, src))
        session.add(
            Lesson(
                version_id=version.id,
                slug=lesson.slug,
                position=position,
                is_appendix=lesson.is_appendix,
                title=markdown.substitute_variables(lesson.front.title, spec.variables),
                summary=markdown.substitute_variables(lesson.front.summary, spec.variables),
                minutes=lesson.front.minutes,
                html=rendered.html,
                toc=rendered.toc,
            )
        )
        if lesson.quiz is not None:
            quiz_row = _quiz_row(version.id, lesson.slug, lesson.quiz, spec.variables)
            session.add(quiz_row)
            all_questions.extend(quiz_row.questions)

    if spec.final_test:
        final = spec.final_test
        session.add(
            Quiz(
                version_id=version.id,
                lesson_slug=None,
                title=final.title,
                pass_mark=final.pass_mark,
                max_attempts=final.max_attempts,
                draw=final.draw,
                shuffle_questions=True,
                shuffle_choices=final.shuffle_choices,
                partial_credit=False,
                questions=all_questions,
            )
        )
    await session.flush()
    return version


async def import_pack(
    session: AsyncSession,
    *,
    pack: Pack,
    source: Source | None = None,
    actor: User | None = None,
    if_changed: bool = False,
    publish: bool = True,
    reread_changed: bool = False,
    note: str = "",
    origin: str = "",
) -> CourseVersion | None:
    """Store the pack as the course's next version and, unless asked for a draft, publish it; None when
    unchanged and if_changed. With a `source`, both steps are audited (the command line names `origin`, the
    path it read); without one nothing is audited: that is for loading packs in tests and benchmarks."""
    if if_changed:
        latest = await content_service.latest_version(session, course_slug=pack.course.slug)
        if latest is not None and latest.source_hash == pack.source_hash:
            return None
    actor_id = actor.id if actor else None
    version = await store_pack(session, pack=pack, actor_id=actor_id, note=note)
    course: Course | None = None
    changed: list[str] = []
    if publish:
        course, version, changed = await make_current(
            session, version_id=version.id, actor_id=actor_id, reread_changed=reread_changed
        )
    if source is not None:
        label = f"{pack.course.slug} 第{version.number}版"
        state = "公開" if publish else "下書きとして保存"
        via = IMPORTED_VIA[source]
        await audit.record(
            session,
            actor=actor,
            action="content.upload",
            target_type="course_version",
            target_id=version.id,
            summary=f"{label}を{state}({via})",
            details={"path": origin, "source_hash": pack.source_hash} if origin else {"source_hash": pack.source_hash},
        )
        if course is not None:
            await record_publication(
                session, course=course, version=version, actor=actor, changed=changed, reread_requested=reread_changed
            )
    return version


def pack_from_zip(data: bytes) -> Pack:
    """Validate an uploaded .zip completely (archive safety, then the pack itself)."""
    return load_pack_files(read_pack_archive(data), name="upload.zip")


async def upload_zip(
    session: AsyncSession, *, data: bytes, filename: str | None, actor: User, note: str = ""
) -> CourseVersion:
    """A .zip uploaded in コンテンツ管理, validated as a whole, stored as a draft."""
    pack = pack_from_zip(data)
    version = await store_pack(session, pack=pack, actor_id=actor.id, note=note)
    await audit.record(
        session,
        actor=actor,
        action="content.upload",
        target_type="course_version",
        target_id=version.id,
        summary=f"{pack.course.slug} 第{version.number}版(下書き)を ZIP から取り込み",
        details={"filename": filename, "bytes": len(data), "source_hash": pack.source_hash},
    )
    return version


async def _draft_with_file(
    session: AsyncSession, *, base_version_id: int, path: str, data: bytes, actor: User, note: str
) -> tuple[Course, CourseVersion]:
    """A new draft: the base version's files with one lesson or quiz file replaced, validated as a whole pack."""
    course, _base = await content_service.course_of_version(session, version_id=base_version_id)
    files = await editing.pack_files(session, version_id=base_version_id)
    if path not in files or not path.endswith((".md", ".yaml", ".yml")):
        message = "置き換えられるのはこの版のレッスン(.md)かテスト(.yaml)のファイルだけです"
        raise PackInvalid([ContentError(file=path, line=None, message=message)])
    files[path] = data
    pack = load_pack_files(files, name=course.slug)
    if pack.course.slug != course.slug:
        raise PackInvalid([ContentError(file="course.yaml", line=None, message="slug は変えられません")])
    return course, await store_pack(session, pack=pack, actor_id=actor.id, note=note)


async def replace_file(
    session: AsyncSession, *, base_version_id: int, path: str, data: bytes, filename: str | None, actor: User
) -> CourseVersion:
    """A new draft with one lesson or quiz file of the base version replaced by an uploaded one."""
    course, draft = await _draft_with_file(
        session, base_version_id=base_version_id, path=path, data=data, actor=actor, note=f"{path} を置き換え"
    )
    await audit.record(
        session,
        actor=actor,
        action="content.upload",
        target_type="course_version",
        target_id=draft.id,
        summary=f"{course.slug} 第{draft.number}版(下書き): {path} を置き換え",
        details={"path": path, "filename": filename, "base_version_id": base_version_id},
    )
    return draft


async def save_lesson(
    session: AsyncSession, *, base_version_id: int, source: editing.LessonSource, text: str, actor: User, note: str
) -> CourseVersion:
    """A new draft with one lesson's Markdown as edited in the browser."""
    if not FRONT_MATTER.match(editing.lesson_file_text(text)):
        message = "先頭の --- で囲んだ front matter(title, summary, minutes)を消さないでください"
        raise PackInvalid([ContentError(source.file, 1, message)])
    data = editing.lesson_file_text(text).encode("utf-8")
    course, draft = await _draft_with_file(
        session,
        base_version_id=base_version_id,
        path=source.file,
        data=data,
        actor=actor,
        note=note or f"{source.title} を編集",
    )
    await audit.record(
        session,
        actor=actor,
        action="content.edit",
        target_type="course_version",
        target_id=draft.id,
        summary=f"{course.slug} 第{draft.number}版(下書き): 「{source.title}」を編集",
        details={"path": source.file, "base_version_id": base_version_id},
    )
    return draft


async def discard_draft(session: AsyncSession, *, version_id: int, actor: User) -> tuple[Course, CourseVersion]:
    """Delete a draft that was never published (a published version stays on record)."""
    course, version = await content_service.course_of_version(session, version_id=version_id)
    if version.published_at is not None:
        raise Conflict("公開したことのある版は削除できません(記録として残ります)。")
    number = version.number
    await session.execute(delete(CourseVersion).where(CourseVersion.id == version.id))
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="content.discard",
        target_type="course_version",
        target_id=version_id,
        summary=f"{course.slug} 第{number}版(下書き)を削除",
    )
    return course, version
