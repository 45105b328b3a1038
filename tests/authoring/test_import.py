import shutil
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.authoring import drafts
from app.content.models import Course, CourseVersion
from app.content.pack import load_pack
from app.lessons.models import Lesson
from app.quiz.models import Quiz
from tests.conftest import MINI_COURSE


async def test_import_creates_a_version_with_lessons_quizzes_and_final_test(db: AsyncSession) -> None:
    version = await drafts.import_pack(db, pack=load_pack(MINI_COURSE))
    await db.commit()
    assert version is not None and version.number == 1
    course = await db.scalar(select(Course).where(Course.slug == "mini-course"))
    assert course is not None and course.current_version_id == version.id
    lessons = (await db.scalars(select(Lesson).where(Lesson.version_id == version.id).order_by(Lesson.position))).all()
    assert [(lesson.slug, lesson.is_appendix) for lesson in lessons] == [
        ("basics", False),
        ("responses", False),
        ("glossary", True),
    ]
    quizzes = {q.lesson_slug: q for q in await db.scalars(select(Quiz).where(Quiz.version_id == version.id))}
    assert set(quizzes) == {"basics", "responses", None}
    assert len(quizzes[None].questions) == 6 and quizzes[None].draw == 4  # final test draws from every bank
    assert quizzes["responses"].partial_credit is True


async def test_unchanged_pack_is_skipped_and_a_changed_one_becomes_the_next_version(
    db: AsyncSession, tmp_path: Path
) -> None:
    await drafts.import_pack(db, pack=load_pack(MINI_COURSE))
    assert await drafts.import_pack(db, pack=load_pack(MINI_COURSE), if_changed=True) is None
    edited = tmp_path / "pack"
    shutil.copytree(MINI_COURSE, edited)
    lesson = edited / "lessons/02-responses.md"
    lesson.write_text(lesson.read_text() + "\n追記です。\n")
    second = await drafts.import_pack(db, pack=load_pack(edited), if_changed=True)
    await db.commit()
    assert second is not None and second.number == 2
    count = await db.scalar(select(func.count(CourseVersion.id)))
    assert count == 2
    # the first version is kept whole: attempts taken on it still have their questions
    first_lessons = await db.scalar(select(func.count(Lesson.id)).join(CourseVersion).where(CourseVersion.number == 1))
    assert first_lessons == 3


async def test_lessons_are_served_from_the_database_not_the_disk(db: AsyncSession, tmp_path: Path) -> None:
    pack_dir = tmp_path / "pack"
    shutil.copytree(MINI_COURSE, pack_dir)
    version = await drafts.import_pack(db, pack=load_pack(pack_dir))
    await db.commit()
    shutil.rmtree(pack_dir)
    lesson = await db.scalar(select(Lesson).where(Lesson.version_id == version.id, Lesson.slug == "basics"))
    assert lesson is not None and "要求の妥当性と手段の相当性で判断します。" in lesson.html
