"""The version service on its own: which lessons changed, what a publication asks learners to re-read and how
that carries forward, comparisons, and versions whose files were never kept."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.authoring import compare as comparing
from app.authoring import drafts, editing, publication
from app.content import service as content_service
from app.content.models import Course, CourseVersion, PackFile
from app.content.pack import load_pack, load_pack_files
from app.core.errors import Conflict, NotFound
from app.progress import activity, standing
from app.progress.rules import LessonStatus
from tests.admin.helpers import RESPONSES_FILE, edited, make_zip, pack_files, parse, revised, text_of
from tests.admin.test_content_learners import with_new_lesson
from tests.conftest import MINI_COURSE


async def draft(db: AsyncSession, files: dict[str, bytes]) -> CourseVersion:
    version = await drafts.store_pack(db, pack=load_pack_files(files, name="test"))
    await db.commit()
    return version


async def publish(db: AsyncSession, files: dict[str, bytes], *, reread: bool) -> CourseVersion:
    version = await draft(db, files)
    await publication.publish(db, version_id=version.id, actor=None, reread_changed=reread)
    await db.commit()
    return version


async def lesson_statuses(db: AsyncSession, user: User, course: Course) -> dict[str, LessonStatus]:
    course, version = await content_service.get_course(db, slug=course.slug)
    progress = await standing.progress_for(db, user_id=user.id, course=course, version=version)
    return {row.lesson.slug: row.state.status for row in progress.lessons}


async def read(db: AsyncSession, user: User, course: Course, slug: str) -> None:
    _course, version = await content_service.get_course(db, slug=course.slug)
    await activity.mark_read(db, user_id=user.id, course_id=course.id, lesson_slug=slug, version_id=version.id)
    await db.commit()


async def test_changed_lessons_compares_text_not_the_version_in_asset_urls(
    db: AsyncSession, mini_course: Course
) -> None:
    first_id = mini_course.current_version_id
    same = await draft(db, pack_files())
    changed = await draft(db, with_new_lesson(revised()))

    assert await publication.changed_lessons(db, old_version_id=first_id, new_version_id=same.id) == []
    assert await publication.changed_lessons(db, old_version_id=first_id, new_version_id=changed.id) == [
        "records",
        "responses",
    ]
    assert await publication.changed_lessons(db, old_version_id=None, new_version_id=same.id) == [
        "basics",
        "glossary",
        "responses",
    ]


async def test_a_changed_image_reference_is_a_change(db: AsyncSession, mini_course: Course) -> None:
    files = edited(
        pack_files(), "lessons/01-basics.md", "![対応の流れ](images/flow.svg)", "![対応の流れ](images/new.svg)"
    )
    other = await draft(db, files | {"images/new.svg": pack_files()["images/flow.svg"]})

    assert await publication.changed_lessons(
        db, old_version_id=mini_course.current_version_id, new_version_id=other.id
    ) == ["basics"]


async def test_reread_covers_changed_lessons_that_existed_and_carries_forward(
    db: AsyncSession, mini_course: Course
) -> None:
    second = await publish(db, with_new_lesson(revised()), reread=True)
    # the new lesson needs a first reading anyway; it is not a re-reading
    assert (second.reread_slugs, second.reread_since) == (["responses"], {"responses": 2})

    third = await publish(
        db, edited(with_new_lesson(revised()), "lessons/01-basics.md", "## 定義", "## 定義と例"), reread=True
    )
    assert (third.reread_slugs, third.reread_since) == (["basics"], {"responses": 2, "basics": 3})

    # a lesson that is removed takes its requirement with it
    course_yaml = "  - slug: responses\n    file: lessons/02-responses.md\n    quiz: quizzes/02-responses.yaml\n"
    files = edited(
        edited(with_new_lesson(revised()), "lessons/01-basics.md", "## 定義", "## 定義と例"),
        "course.yaml",
        course_yaml,
        "",
    )
    files = edited(files, "course.yaml", "  draw: 4", "  draw: 3")
    fourth = await publish(db, files, reread=False)
    assert (fourth.reread_slugs, fourth.reread_since) == ([], {"basics": 3})


async def test_a_learner_who_has_not_reread_still_must_after_a_later_version(
    db: AsyncSession, mini_course: Course, learner: User
) -> None:
    for slug in ("basics", "responses"):
        await read(db, learner, mini_course, slug)
    await publish(db, revised(), reread=True)
    await publish(db, edited(revised(), RESPONSES_FILE, "30分", "20分"), reread=False)

    assert await lesson_statuses(db, learner, mini_course) == {
        "basics": LessonStatus.READ,
        "responses": LessonStatus.REREAD,
    }
    await read(db, learner, mini_course, "responses")
    assert await lesson_statuses(db, learner, mini_course) == {
        "basics": LessonStatus.READ,
        "responses": LessonStatus.READ,
    }


async def test_a_version_cannot_be_compared_with_another_courses(db: AsyncSession, mini_course: Course) -> None:
    other = await draft(db, edited(pack_files(), "course.yaml", "slug: mini-course", "slug: other-course"))

    with pytest.raises(NotFound):
        await comparing.compare(db, old_version_id=mini_course.current_version_id, new_version_id=other.id)


def test_an_uploaded_zip_is_the_same_pack_as_its_folder() -> None:
    from_zip = drafts.pack_from_zip(make_zip(pack_files(), folder="mini-course/"))
    from_folder = load_pack(MINI_COURSE)

    assert from_zip.source_hash == from_folder.source_hash
    assert from_zip.files == from_folder.files


async def test_a_version_whose_files_were_not_kept_can_be_previewed_but_not_edited(
    admin_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    first_id = mini_course.current_version_id
    await db.execute(delete(PackFile).where(PackFile.version_id == first_id))
    await db.commit()

    page = await admin_client.get(f"/admin/content/versions/{first_id}")
    assert page.status_code == 200
    assert [a.get_text() for a in parse(page).select("ul.admin-lessons a")][:2] == ["基本", "プレビュー"]
    assert parse(page).select("a[href$='/edit']") == [] and parse(page).select("form[action$='/replace']") == []
    assert (await admin_client.get(f"/admin/content/versions/{first_id}/lessons/basics")).status_code == 200
    editor = await admin_client.get(f"/admin/content/versions/{first_id}/lessons/basics/edit")
    assert editor.status_code == 409
    assert text_of(parse(editor).select_one("main [role=alert]")).startswith(
        "この版には元のファイルが保存されていません"
    )
    with pytest.raises(Conflict):
        await editing.pack_files(db, version_id=first_id)


async def test_a_course_with_drafts_only_is_listed_as_unpublished(
    admin_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    await draft(db, edited(pack_files(), "course.yaml", "slug: mini-course", "slug: other-course"))

    rows = parse(await admin_client.get("/admin/content")).select("table tbody tr")

    assert [[text_of(cell) for cell in row.select("td")[:3]][0::2] for row in rows] == [
        ["テスト用ミニコース mini-course", "第1版"],
        ["テスト用ミニコース other-course", "第1版 下書き"],
    ]
    assert text_of(rows[1].select("td")[1]) == "未公開"


async def test_a_draft_older_than_a_later_publication_cannot_be_published(
    db: AsyncSession, mini_course: Course
) -> None:
    course_id = mini_course.id
    stale = await draft(db, revised())
    newer = await publish(db, edited(revised(), RESPONSES_FILE, "## 対応の流れ", "## 対応の流れ（改訂）"), reread=False)
    newer_id, newer_number, stale_id = newer.id, newer.number, stale.id
    with pytest.raises(Conflict, match=f"第{newer_number}版より古い内容です"):
        await publication.publish(db, version_id=stale_id, actor=None, reread_changed=True)
    await db.rollback()
    assert (await db.get(Course, course_id)).current_version_id == newer_id
