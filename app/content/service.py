"""Importing a validated pack as a new course version, and reading courses back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.content import markdown
from app.content.models import Asset, Course, CourseVersion, PackFile
from app.content.pack import Pack
from app.core.errors import InvalidInput, NotFound
from app.lessons.models import Lesson
from app.quiz.models import Quiz
from app.quiz.schemas import QuizFile


def asset_url(version_id: int, path: str) -> str:
    return f"/assets/{version_id}/{path}"


def _question_record(definition: dict[str, Any], variables: dict[str, str]) -> dict[str, Any]:
    """The stored form of a question: its definition, plus its Markdown fields rendered to safe HTML."""
    definition = _substitute(definition, variables)
    html = {
        name: markdown.render_inline_block(definition[name])
        for name in ("prompt", "scene", "explanation")
        if definition.get(name)
    }
    return {"def": definition, "html": html}


def _substitute(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, str):
        return markdown.substitute_variables(value, variables)
    if isinstance(value, list):
        return [_substitute(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, variables) for key, item in value.items()}
    return value


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


async def latest_version(session: AsyncSession, *, course_slug: str) -> CourseVersion | None:
    return await session.scalar(
        select(CourseVersion)
        .join(Course, Course.id == CourseVersion.course_id)
        .where(Course.slug == course_slug)
        .order_by(CourseVersion.number.desc())
        .limit(1)
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
    number = (await session.scalar(select(func.max(CourseVersion.number)).where(
        CourseVersion.course_id == course.id))) or 0  # fmt: skip
    version = CourseVersion(
        course_id=course.id,
        number=number + 1,
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
        rendered = markdown.render(body, resolve_image=lambda src, v=version.id: asset_url(v, src))
        session.add(Lesson(
            version_id=version.id, slug=lesson.slug, position=position, is_appendix=lesson.is_appendix,
            title=markdown.substitute_variables(lesson.front.title, spec.variables),
            summary=markdown.substitute_variables(lesson.front.summary, spec.variables),
            minutes=lesson.front.minutes, html=rendered.html, toc=rendered.toc,
        ))  # fmt: skip
        if lesson.quiz is not None:
            quiz_row = _quiz_row(version.id, lesson.slug, lesson.quiz, spec.variables)
            session.add(quiz_row)
            all_questions.extend(quiz_row.questions)

    if spec.final_test:
        final = spec.final_test
        session.add(Quiz(
            version_id=version.id, lesson_slug=None, title=final.title, pass_mark=final.pass_mark,
            max_attempts=final.max_attempts, draw=final.draw, shuffle_questions=True,
            shuffle_choices=final.shuffle_choices, partial_credit=False, questions=all_questions,
        ))  # fmt: skip
    await session.flush()
    return version


async def import_pack(
    session: AsyncSession,
    *,
    pack: Pack,
    if_changed: bool = False,
    publish: bool = True,
    actor_id: int | None = None,
    note: str = "",
) -> CourseVersion | None:
    """Store the pack as the course's next version and, unless asked for a draft, publish it; None when
    unchanged and if_changed."""
    from app.content import versions

    if if_changed:
        latest = await latest_version(session, course_slug=pack.course.slug)
        if latest is not None and latest.source_hash == pack.source_hash:
            return None
    version = await store_pack(session, pack=pack, actor_id=actor_id, note=note)
    if publish:
        await versions.publish(session, version_id=version.id, actor_id=actor_id, reread_changed=False)
    return version


async def _with_current_version(session: AsyncSession, condition: Any) -> tuple[Course, CourseVersion]:
    row = (await session.execute(
        select(Course, CourseVersion)
        .join(CourseVersion, CourseVersion.id == Course.current_version_id)
        .where(condition)
    )).first()  # fmt: skip
    if row is None:
        raise NotFound("コースが見つかりません。")
    return row[0], row[1]


async def get_course(session: AsyncSession, *, slug: str) -> tuple[Course, CourseVersion]:
    """A course and its current version, or NotFound."""
    return await _with_current_version(session, Course.slug == slug)


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
    row = (await session.execute(
        select(Course, CourseVersion)
        .join(CourseVersion, CourseVersion.course_id == Course.id)
        .where(CourseVersion.id == version_id)
    )).first()  # fmt: skip
    if row is None:
        raise NotFound()
    return row[0], row[1]


async def set_valid_months(session: AsyncSession, *, course_id: int, months: int | None, actor: User) -> Course:
    """How long a completion of the course stays valid; applies to certificates issued from now on."""
    from app.audit import service as audit

    if months is not None and not 1 <= months <= 120:
        raise InvalidInput("有効期間は 1〜120 か月で指定してください(期限なしは空欄)。")
    course = await session.get(Course, course_id)
    if course is None:
        raise NotFound("コースが見つかりません。")
    course.valid_months = months
    await audit.record(session, actor=actor, action="course.settings", target_type="course", target_id=course.id,
                       summary=f"{course.slug} の修了の有効期間を " + (f"{months}か月" if months else "期限なし")
                       + " に変更", details={"valid_months": months})  # fmt: skip
    return course


async def course_row(session: AsyncSession, *, course_id: int) -> Course:
    """The course row itself, whatever its versions, or NotFound."""
    course = await session.get(Course, course_id)
    if course is None:
        raise NotFound("コースが見つかりません。")
    return course
