"""Editing a lesson in the browser and replacing one file: each save is a new draft, validated as a whole pack;
an invalid one is refused with its problems listed and nothing written."""

from __future__ import annotations

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.content.models import Course, PackFile
from app.lessons.models import Lesson
from app.quiz.models import Quiz
from tests.admin.helpers import (
    RESPONSES_FILE,
    RESPONSES_NEW,
    RESPONSES_OLD,
    edited,
    listed_errors,
    pack_files,
    parse,
    revised_lesson,
    row_counts,
    text_of,
    version_id_from,
    versions_of,
)
from tests.conftest import MINI_COURSE

SOURCE = (MINI_COURSE / RESPONSES_FILE).read_text(encoding="utf-8")
BASICS_SOURCE = (MINI_COURSE / "lessons/01-basics.md").read_text(encoding="utf-8")
ALL_CLEAR = "パック全体の検査: 問題はありません"


def editor(version_id: int | None, slug: str = "responses", action: str = "edit") -> str:
    return f"/admin/content/versions/{version_id}/lessons/{slug}/{action}"


async def stored_file(db: AsyncSession, version_id: int, path: str) -> bytes | None:
    return await db.scalar(select(PackFile.data).where(PackFile.version_id == version_id, PackFile.path == path))


# --- the editor ---------------------------------------------------------------------------------------------------


async def test_the_editor_shows_the_markdown_and_its_preview(
    admin_client: httpx.AsyncClient, mini_course: Course
) -> None:
    response = await admin_client.get(editor(mini_course.current_version_id))

    assert response.status_code == 200
    page = parse(response)
    assert page.select_one("textarea#text[name=text]").get_text() == SOURCE
    assert page.select_one("form.editor")["action"] == editor(mini_course.current_version_id)
    assert [heading.get_text() for heading in page.select(".preview-body h2")] == ["対応の流れ"]
    assert text_of(page.select_one("#editor-problems")) == ALL_CLEAR


async def test_the_live_preview_answers_htmx_with_the_fragment(
    admin_client: httpx.AsyncClient, mini_course: Course
) -> None:
    text = revised_lesson() + "\n<script>alert(1)</script>\n"

    response = await admin_client.post(
        editor(mini_course.current_version_id, action="preview"), data={"text": text}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    fragment = parse(response)
    assert fragment.find("html") is None and fragment.find("textarea") is None and fragment.find("nav") is None
    assert text_of(fragment.select_one("#editor-problems")) == ALL_CLEAR
    body = fragment.select_one(".preview-body")
    assert RESPONSES_NEW.strip() in text_of(body) and RESPONSES_OLD.strip() not in text_of(body)
    assert body.find("script") is None and "<script>alert(1)</script>" in body.get_text()  # shown as text


@pytest.mark.parametrize(
    ("slug", "old", "new", "problem"),
    [
        (
            "responses",
            "## 対応の流れ",
            "# 対応の流れ",
            ("lessons/02-responses.md:7", "見出しは ## から始めてください(# はページの題名に使われます)"),
        ),
        (
            "responses",
            "## 対応の流れ",
            "## 対応の流れ({{ store_name }})",
            ("lessons/02-responses.md", "変数 {{ store_name }} が course.yaml の variables にありません"),
        ),
        (
            "basics",
            "## 定義",
            "# 定義",
            ("lessons/01-basics.md:7", "見出しは ## から始めてください(# はページの題名に使われます)"),
        ),
    ],
    ids=["heading-level-1", "unknown-variable", "error-in-a-lesson-with-variables"],
)
async def test_the_live_preview_lists_the_problems(
    admin_client: httpx.AsyncClient, mini_course: Course, slug: str, old: str, new: str, problem: tuple[str, str]
) -> None:
    source = BASICS_SOURCE if slug == "basics" else SOURCE
    assert old in source

    response = await admin_client.post(
        editor(mini_course.current_version_id, slug, "preview"),
        data={"text": source.replace(old, new, 1)},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert listed_errors(response) == [problem]
    fragment = parse(response)
    assert text_of(fragment.select_one("#editor-problems strong")) == "このままでは保存できません(1件)"
    # while a problem is listed, the preview still shows the lesson as learners would see it, variables filled in
    if slug == "basics":
        assert "改正法の施行日は 2026年10月1日 です。" in text_of(fragment.select_one(".preview-body"))


# --- saving -------------------------------------------------------------------------------------------------------


async def test_saving_valid_text_makes_a_new_draft_with_it(
    admin_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course, admin: User
) -> None:
    first_id = mini_course.current_version_id
    text = revised_lesson()

    # a browser sends a textarea with CRLF line ends
    response = await admin_client.post(
        editor(first_id), data={"text": text.replace("\n", "\r\n"), "note": "報告を明記"}
    )

    draft_id = version_id_from(response)
    assert response.headers["location"] == f"/admin/content/versions/{draft_id}?edited=responses"
    first, draft = await versions_of(db, mini_course.id)
    assert (draft.id, draft.published_at, draft.created_by_id, draft.note) == (draft_id, None, admin.id, "報告を明記")
    await db.refresh(mini_course)
    assert mini_course.current_version_id == first.id
    assert await stored_file(db, draft_id, RESPONSES_FILE) == text.encode("utf-8")
    assert await stored_file(db, first_id, RESPONSES_FILE) == SOURCE.encode("utf-8")
    for path, data in pack_files().items():
        if path != RESPONSES_FILE:
            assert await stored_file(db, draft_id, path) == data, path
    lesson_html = await db.scalar(select(Lesson.html).where(Lesson.version_id == draft_id, Lesson.slug == "responses"))
    assert RESPONSES_NEW.strip() in BeautifulSoup(lesson_html, "html.parser").get_text()

    page = parse(await admin_client.get(response.headers["location"]))
    assert text_of(page.select_one("main [role=status]")) == "編集内容を第2版の下書きとして保存しました。"
    assert [item.a.get_text() for item in page.select("ul.admin-lessons > li") if item.select_one(".badge")] == ["対応"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            SOURCE.replace("## 対応の流れ", "# 対応の流れ"),
            ("lessons/02-responses.md:7", "見出しは ## から始めてください(# はページの題名に使われます)"),
        ),
        (
            SOURCE.replace("## 対応の流れ", "## {{ store_name }}"),
            ("lessons/02-responses.md", "変数 {{ store_name }} が course.yaml の variables にありません"),
        ),
        (
            SOURCE.split("---\n", 2)[2],
            (
                "lessons/02-responses.md:1",
                "先頭の --- で囲んだ front matter(title, summary, minutes)を消さないでください",
            ),
        ),
    ],
    ids=["heading-level-1", "unknown-variable", "front-matter-removed"],
)
async def test_saving_invalid_text_is_refused_and_writes_nothing(
    admin_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course, text: str, problem: tuple[str, str]
) -> None:
    before = await row_counts(db)

    response = await admin_client.post(editor(mini_course.current_version_id), data={"text": text})

    assert response.status_code == 422
    assert listed_errors(response) == [problem]
    assert parse(response).select_one("textarea#text").get_text() == text  # the author's work is not lost
    assert await row_counts(db) == before


# --- replacing one file -------------------------------------------------------------------------------------------

QUIZ_FILE = "quizzes/01-basics.yaml"


async def replace(client: httpx.AsyncClient, version_id: int | None, path: str, data: bytes) -> httpx.Response:
    return await client.post(
        f"/admin/content/versions/{version_id}/replace",
        data={"path": path},
        files={"file": (path.rsplit("/", 1)[-1], data, "application/yaml")},
    )


async def test_replacing_a_quiz_file_makes_a_new_draft(
    admin_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    quiz = edited(pack_files(), QUIZ_FILE, "判断の2つの軸は?", "カスハラかどうかを判断する2つの軸は?")[QUIZ_FILE]

    response = await replace(admin_client, mini_course.current_version_id, QUIZ_FILE, quiz)

    draft_id = version_id_from(response)
    assert response.headers["location"] == f"/admin/content/versions/{draft_id}?uploaded=1"
    first, draft = await versions_of(db, mini_course.id)
    assert draft.id == draft_id and draft.published_at is None and draft.note == f"{QUIZ_FILE} を置き換え"
    assert await stored_file(db, draft_id, QUIZ_FILE) == quiz
    prompts = {
        slug: [record["def"]["prompt"] for record in questions]
        for slug, questions in await db.execute(
            select(Quiz.lesson_slug, Quiz.questions).where(Quiz.version_id == draft_id)
        )
    }
    assert prompts["basics"][0] == "カスハラかどうかを判断する2つの軸は?"
    assert "カスハラかどうかを判断する2つの軸は?" in prompts[None]  # the final test draws from the new bank
    old_prompt = await db.scalar(
        select(Quiz.questions).where(Quiz.version_id == first.id, Quiz.lesson_slug == "basics")
    )
    assert old_prompt[0]["def"]["prompt"] == "判断の2つの軸は?"


@pytest.mark.parametrize(
    ("path", "old", "new", "problem"),
    [
        (
            QUIZ_FILE,
            "- {id: b, text: 顧客の年齢と来店回数,",
            "- {id: b, correct: true, text: 顧客の年齢と来店回数,",
            ("quizzes/01-basics.yaml:7", "questions[0]: single の問題には正解 (correct: true) がちょうど1つ必要です"),
        ),
        (
            "quizzes/99-extra.yaml",
            None,
            None,
            ("quizzes/99-extra.yaml", "置き換えられるのはこの版のレッスン(.md)かテスト(.yaml)のファイルだけです"),
        ),
        (
            "images/flow.svg",
            None,
            None,
            ("images/flow.svg", "置き換えられるのはこの版のレッスン(.md)かテスト(.yaml)のファイルだけです"),
        ),
        ("course.yaml", "slug: mini-course", "slug: other-course", ("course.yaml", "slug は変えられません")),
    ],
    ids=["single-with-two-correct", "not-in-the-pack", "an-image", "course-slug-changed"],
)
async def test_an_invalid_replacement_is_refused_and_writes_nothing(
    admin_client: httpx.AsyncClient,
    db: AsyncSession,
    mini_course: Course,
    path: str,
    old: str | None,
    new: str | None,
    problem: tuple[str, str],
) -> None:
    data = edited(pack_files(), path, old, new)[path] if old and new else pack_files()[QUIZ_FILE]
    before = await row_counts(db)

    response = await replace(admin_client, mini_course.current_version_id, path, data)

    assert response.status_code == 422
    assert listed_errors(response) == [problem]
    assert await row_counts(db) == before
