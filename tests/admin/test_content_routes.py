"""コンテンツ管理 over HTTP: an uploaded pack is a draft, previewed by admins only, then published, rolled back,
discarded and compared; the draft's files stay private until publication."""

from __future__ import annotations

import httpx
import pytest
import yaml
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.content.models import Asset, Course, PackFile
from app.core.templating import format_datetime
from app.jobs.models import Job
from app.lessons.models import Lesson
from app.progress import standing
from app.quiz.models import Quiz
from tests.admin.conftest import SignIn
from tests.admin.helpers import (
    RESPONSES_FILE,
    RESPONSES_NEW,
    RESPONSES_OLD,
    edited,
    make_zip,
    pack_files,
    parse,
    revised,
    text_of,
    upload,
    upload_draft,
    version_id_from,
    versions_of,
)
from tests.conftest import MINI_COURSE

RETITLED = ("title: テスト用ミニコース", "title: テスト用ミニコース 改訂版")


async def current_version_id(db: AsyncSession, course: Course) -> int | None:
    await db.refresh(course)
    return course.current_version_id


def alert(response: httpx.Response) -> str:
    return text_of(parse(response).select_one("main [role=alert], main [role=status]"))


# --- upload -------------------------------------------------------------------------------------------------------


async def test_an_uploaded_pack_is_a_draft_that_learners_do_not_see(
    admin_client: httpx.AsyncClient,
    learner_client: httpx.AsyncClient,
    db: AsyncSession,
    mini_course: Course,
    admin: User,
) -> None:
    files = edited(revised(), "course.yaml", *RETITLED)
    response = await upload(admin_client, make_zip(files, folder="mini-course/"), note="対応の手順を改訂")

    draft_id = version_id_from(response)
    assert response.headers["location"] == f"/admin/content/versions/{draft_id}?uploaded=1"
    first, draft = await versions_of(db, mini_course.id)
    assert (draft.id, draft.number, draft.published_at) == (draft_id, 2, None)
    assert (draft.created_by_id, draft.note, draft.title) == (admin.id, "対応の手順を改訂", "テスト用ミニコース 改訂版")
    assert await current_version_id(db, mini_course) == first.id

    assert parse(await learner_client.get("/courses/mini-course")).h1.get_text() == "テスト用ミニコース"
    lesson = parse(await learner_client.get("/courses/mini-course/lessons/responses"))
    body = text_of(lesson.select_one(".lesson-body"))
    assert RESPONSES_OLD.strip() in body and RESPONSES_NEW.strip() not in body

    page = parse(await admin_client.get(response.headers["location"]))
    assert text_of(page.select_one("main [role=status]")).startswith("検査に合格し、第2版の下書きとして保存しました。")
    assert text_of(page.select_one("h1 .badge")) == "下書き"
    items = page.select("ul.admin-lessons > li")
    assert [item.a.get_text() for item in items] == ["基本", "対応", "用語集", "修了テスト"]
    # Only the lesson whose text changed is flagged, not basics, whose image URL names the new version.
    assert [item.a.get_text() for item in items if item.select_one(".badge")] == ["対応"]
    assert [badge.get_text() for badge in page.select(".publish-card .badge")] == ["対応"]


async def test_an_identical_pack_changes_no_lesson(admin_client: httpx.AsyncClient, mini_course: Course) -> None:
    draft_id = await upload_draft(admin_client, pack_files())
    page = parse(await admin_client.get(f"/admin/content/versions/{draft_id}"))
    assert [item.a.get_text() for item in page.select("ul.admin-lessons > li")][:3] == ["基本", "対応", "用語集"]
    assert page.select("ul.admin-lessons .badge") == []
    assert page.select(".publish-card .badge") == []


# --- preview ------------------------------------------------------------------------------------------------------


async def test_a_draft_lesson_is_previewed_with_its_banner(admin_client: httpx.AsyncClient, draft_id: int) -> None:
    page = parse(await admin_client.get(f"/admin/content/versions/{draft_id}/lessons/responses"))
    assert text_of(page.select_one(".preview-banner")) == "プレビュー: 第2版(下書き・受講者にはまだ見えません)"
    assert page.h1.get_text() == "対応"
    body = text_of(page.select_one(".lesson-body"))
    assert RESPONSES_NEW.strip() in body and RESPONSES_OLD.strip() not in body

    basics = parse(await admin_client.get(f"/admin/content/versions/{draft_id}/lessons/basics"))
    assert basics.select_one(".lesson-body img")["src"] == f"/assets/{draft_id}/images/flow.svg"
    assert "改正法の施行日は 2026年10月1日 です。" in text_of(basics.select_one(".lesson-body"))


def answers_in_files(slug: str) -> dict[str, list[str]]:
    """Question id → what the preview must show as right, read from the quiz files themselves."""
    course = yaml.safe_load((MINI_COURSE / "course.yaml").read_text(encoding="utf-8"))
    quiz_files = {entry["slug"]: entry["quiz"] for entry in course["lessons"] if entry.get("quiz")}
    found: dict[str, list[str]] = {}
    for file in quiz_files.values() if slug == "final" else [quiz_files[slug]]:
        for question in yaml.safe_load((MINI_COURSE / file).read_text(encoding="utf-8"))["questions"]:
            kind = question["type"]
            if kind in ("single", "multiple"):
                found[question["id"]] = [choice["text"] for choice in question["choices"] if choice.get("correct")]
            elif kind == "scenario":
                found[question["id"]] = [item["text"] for item in question["responses"] if item["rating"] == "best"]
            elif kind == "ordering":
                found[question["id"]] = [step["text"] for step in question["steps"]]
            else:
                found[question["id"]] = ["正しい" if question["answer"] else "誤り"]
    return found


def answers_shown(page: BeautifulSoup) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for section in page.select("section.question"):
        question_id = section["id"].removeprefix("q-")
        if ordered := section.select_one("ol.review-list"):
            found[question_id] = [item.get_text(strip=True) for item in ordered.select("li")]
        elif listed := section.select_one("ul.review-list"):
            right = listed.select("li.right")
            # every right answer carries its badge (正解, or 最善 for a scenario), and no other item does
            assert all(item.select_one(".badge-passed, .badge-rating-best") for item in right), question_id
            assert not any(item.select_one(".badge-passed") for item in listed.select("li:not(.right)")), question_id
            found[question_id] = ["".join(item.find_all(string=True, recursive=False)).strip() for item in right]
        else:
            found[question_id] = [section.select_one("p strong").get_text()]
        assert section.select_one(".explanation").get_text(strip=True) != "解説", question_id
    return found


@pytest.mark.parametrize("slug", ["basics", "responses", "final"])
async def test_a_quiz_preview_shows_every_question_with_its_answers(
    admin_client: httpx.AsyncClient, draft_id: int, slug: str
) -> None:
    response = await admin_client.get(f"/admin/content/versions/{draft_id}/quizzes/{slug}")

    assert response.status_code == 200
    page = parse(response)
    assert text_of(page.select_one(".preview-banner")).startswith("プレビュー: 第2版。正解と解説を表示しています")
    # every question of the bank, in file order, even where a paper draws fewer (responses and final draw)
    assert answers_shown(page) == answers_in_files(slug)
    assert [s["id"] for s in page.select("section.question")] == [f"q-{key}" for key in answers_in_files(slug)]


async def test_an_unknown_quiz_preview_is_not_found(admin_client: httpx.AsyncClient, mini_course: Course) -> None:
    version_id = mini_course.current_version_id
    assert (await admin_client.get(f"/admin/content/versions/{version_id}/quizzes/glossary")).status_code == 404
    assert (await admin_client.get(f"/admin/content/versions/{version_id}/lessons/nope")).status_code == 404
    assert (await admin_client.get("/admin/content/versions/9999/lessons/basics")).status_code == 404


@pytest.mark.parametrize("who", ["learner", "manager"])
async def test_previews_are_for_admins_only(
    draft_id: int, signed_in: SignIn, learner: User, manager: User, who: str
) -> None:
    other = await signed_in(learner if who == "learner" else manager)
    for tail in ("", "/lessons/responses", "/quizzes/basics", "/quizzes/final", "/lessons/responses/edit"):
        response = await other.get(f"/admin/content/versions/{draft_id}{tail}")
        assert response.status_code == 403, tail
        assert RESPONSES_NEW.strip() not in response.text


# --- a draft's files ----------------------------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def test_a_drafts_files_are_private_until_it_is_published(
    admin_client: httpx.AsyncClient,
    learner_client: httpx.AsyncClient,
    signed_in: SignIn,
    manager: User,
    mini_course: Course,
) -> None:
    files = edited(revised(), RESPONSES_FILE, "## 対応の流れ", "## 対応の流れ\n\n[応対マニュアル(PDF)](handouts/x.pdf)")
    draft_id = await upload_draft(admin_client, files | {"handouts/x.pdf": PDF})
    image, handout = f"/assets/{draft_id}/images/flow.svg", f"/assets/{draft_id}/handouts/x.pdf"
    manager_client = await signed_in(manager)

    for url in (image, handout):
        assert (await learner_client.get(url)).status_code == 404, url
        assert (await manager_client.get(url)).status_code == 404, url
    old_image = f"/assets/{mini_course.current_version_id}/images/flow.svg"
    assert (await learner_client.get(old_image)).status_code == 200  # the published version's files still are

    svg = await admin_client.get(image)
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert "sandbox" in [part.strip() for part in svg.headers["content-security-policy"].split(";")]
    assert svg.headers["x-content-type-options"] == "nosniff"
    assert BeautifulSoup(svg.content, "html.parser").find("rect") is not None
    pdf = await admin_client.get(handout)
    assert (pdf.status_code, pdf.headers["content-type"], pdf.content) == (200, "application/pdf", PDF)
    assert pdf.headers["content-disposition"] == "inline; filename*=UTF-8''x.pdf"
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert svg.headers["cache-control"] == "private, no-store"  # a discarded draft's id may come back on SQLite

    assert (await admin_client.post(f"/admin/content/versions/{draft_id}/publish")).status_code == 303
    for url in (image, handout):
        published = await learner_client.get(url)
        assert published.status_code == 200, url
        assert published.headers["cache-control"] == "private, max-age=86400, immutable"
    lesson = parse(await learner_client.get("/courses/mini-course/lessons/responses"))
    assert lesson.select_one(".lesson-body a[href$='x.pdf']")["href"] == handout


# --- publish, roll back, discard ----------------------------------------------------------------------------------


def history_rows(page: BeautifulSoup) -> list[list[str]]:
    """Version, state, created (when, by whom), published (when, by whom) of every row of the history table."""
    return [[text_of(cell) for cell in row.select("td")[:4]] for row in page.select("table.history tbody tr")]


async def test_publish_and_roll_back_switch_what_learners_see_and_the_history_says_who(
    admin_client: httpx.AsyncClient,
    learner_client: httpx.AsyncClient,
    db: AsyncSession,
    mini_course: Course,
    admin: User,
) -> None:
    draft_id = await upload_draft(admin_client, edited(revised(), "course.yaml", *RETITLED))

    published = await admin_client.post(f"/admin/content/versions/{draft_id}/publish")

    assert published.status_code == 303
    assert published.headers["location"] == f"/admin/content/courses/{mini_course.id}?published=2"
    first, second = await versions_of(db, mini_course.id)
    assert await current_version_id(db, mini_course) == second.id
    assert second.published_by_id == admin.id and second.published_at is not None
    assert parse(await learner_client.get("/courses/mini-course")).h1.get_text() == "テスト用ミニコース 改訂版"
    lesson = parse(await learner_client.get("/courses/mini-course/lessons/responses"))
    assert RESPONSES_NEW.strip() in text_of(lesson.select_one(".lesson-body"))

    history = parse(await admin_client.get(published.headers["location"]))
    assert text_of(history.select_one("main [role=status]")) == "第2版を公開しました。"
    assert history_rows(history) == [
        [
            "第2版",
            "公開中",
            f"{format_datetime(second.imported_at)} 管理 花子",
            f"{format_datetime(second.published_at)} 管理 花子",
        ],
        [
            "第1版",
            "公開済み",
            f"{format_datetime(first.imported_at)} コマンドライン",
            f"{format_datetime(first.published_at)} コマンドライン",
        ],
    ]
    rollback_forms = history.select("form[action$='/rollback']")
    assert [form["action"] for form in rollback_forms] == [f"/admin/content/versions/{first.id}/rollback"]

    rolled_back = await admin_client.post(f"/admin/content/versions/{first.id}/rollback")

    assert rolled_back.status_code == 303
    assert rolled_back.headers["location"] == f"/admin/content/courses/{mini_course.id}?rolled_back=1"
    first, second = await versions_of(db, mini_course.id)
    assert await current_version_id(db, mini_course) == first.id
    assert second.published_at is not None  # it stays published: it can be made current again the same way
    assert parse(await learner_client.get("/courses/mini-course")).h1.get_text() == "テスト用ミニコース"
    history = parse(await admin_client.get(rolled_back.headers["location"]))
    assert text_of(history.select_one("main [role=status]")) == "第1版に戻しました。"
    assert [row[:2] for row in history_rows(history)] == [["第2版", "公開済み"], ["第1版", "公開中"]]
    # the rollback created no version, so the log of switches is where it shows (newest first)
    log = [text_of(item).split(" ", 2)[-1] for item in history.select(".switch-log li")]
    assert log == ["管理 花子: 第1版に戻す", "管理 花子: 第2版を公開"]


async def test_what_cannot_be_done_to_a_version_is_refused_with_409(
    admin_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    first_id = mini_course.current_version_id
    second_id = await upload_draft(admin_client, revised())
    assert (await admin_client.post(f"/admin/content/versions/{second_id}/publish")).status_code == 303
    third_id = await upload_draft(admin_client, pack_files())

    refused = {
        f"{second_id}/publish": "第2版はすでに公開されています。",
        f"{first_id}/publish": "第1版はすでに公開されています。",
        f"{second_id}/rollback": "第2版はすでに公開中です。",
        f"{third_id}/rollback": "下書きには戻せません。先に公開してください。",
        f"{first_id}/discard": "公開したことのある版は削除できません(記録として残ります)。",
        f"{second_id}/discard": "公開したことのある版は削除できません(記録として残ります)。",
    }
    for action, message in refused.items():
        response = await admin_client.post(f"/admin/content/versions/{action}")
        assert response.status_code == 409, action
        assert alert(response).startswith(message), action
    assert [(v.id, v.published_at is not None) for v in await versions_of(db, mini_course.id)] == [
        (first_id, True),
        (second_id, True),
        (third_id, False),
    ]
    assert await current_version_id(db, mini_course) == second_id


async def test_discarding_a_draft_deletes_it_and_everything_it_holds(
    admin_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course, draft_id: int
) -> None:
    response = await admin_client.post(f"/admin/content/versions/{draft_id}/discard")

    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/content/courses/{mini_course.id}"
    assert [v.number for v in await versions_of(db, mini_course.id)] == [1]
    for model in (Lesson, Quiz, PackFile, Asset):
        assert await db.scalar(select(func.count()).select_from(model).where(model.version_id == draft_id)) == 0
    assert (await admin_client.get(f"/admin/content/versions/{draft_id}")).status_code == 404
    assert (await admin_client.post(f"/admin/content/versions/{draft_id}/discard")).status_code == 404


async def test_discarding_the_only_draft_of_a_new_course_leads_back_to_the_overview(
    admin_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    files = edited(pack_files(), "course.yaml", "slug: mini-course", "slug: other-course")
    draft_id = await upload_draft(admin_client, files)
    other_id = await db.scalar(select(Course.id).where(Course.slug == "other-course"))

    response = await admin_client.post(f"/admin/content/versions/{draft_id}/discard")

    assert response.status_code == 303 and response.headers["location"] == "/admin/content"
    overview = await admin_client.get(response.headers["location"])
    assert overview.status_code == 200
    assert [text_of(row.select_one("td .small")) for row in parse(overview).select("table tbody tr")] == ["mini-course"]
    # a bookmarked history or comparison of that course is not found, rather than an error
    assert (await admin_client.get(f"/admin/content/courses/{other_id}")).status_code == 404
    assert (await admin_client.get(f"/admin/content/courses/{other_id}/compare")).status_code == 404
    # and the same pack may be uploaded again
    assert (await upload(admin_client, make_zip(files))).status_code == 303


async def test_a_publication_that_fails_midway_changes_nothing(
    signed_in: SignIn,
    admin: User,
    learner_client: httpx.AsyncClient,
    db: AsyncSession,
    mini_course: Course,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin_client = await signed_in(admin, raise_app_exceptions=False)
    await learner_client.post("/courses/mini-course/lessons/basics/read")  # a learner whose standing is refreshed
    draft_id = await upload_draft(admin_client, revised())

    async def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the database went away after the course row was moved")

    jobs_before = await db.scalar(select(func.count()).select_from(Job))
    monkeypatch.setattr(standing.queue, "enqueue", broken)  # enqueueing the standings' recompute fails
    response = await admin_client.post(f"/admin/content/versions/{draft_id}/publish", data={"reread": "true"})

    assert response.status_code == 500
    assert await db.scalar(select(func.count()).select_from(Job)) == jobs_before
    first, draft = await versions_of(db, mini_course.id)
    assert await current_version_id(db, mini_course) == first.id
    assert (draft.published_at, draft.published_by_id, draft.reread_slugs) == (None, None, [])


# --- comparing versions -------------------------------------------------------------------------------------------


async def test_compare_shows_added_and_removed_lines_and_unchanged_lessons(
    admin_client: httpx.AsyncClient, mini_course: Course
) -> None:
    first_id = mini_course.current_version_id
    files = edited(revised(), "course.yaml", "appendices:\n  - slug: glossary\n    file: lessons/90-glossary.md\n", "")
    draft_id = await upload_draft(admin_client, files)

    response = await admin_client.get(f"/admin/content/courses/{mini_course.id}/compare?old={first_id}&new={draft_id}")

    assert response.status_code == 200
    page = parse(response)
    assert page.h1.get_text() == "第1版 → 第2版 の違い"
    changed = page.select_one("#diff-responses")
    assert text_of(changed.select_one("h2 .badge")) == "変更あり"
    assert [line.get_text() for line in changed.select(".diff-removed")] == [f"- {RESPONSES_OLD}"]
    assert [line.get_text() for line in changed.select(".diff-added")] == [f"+ {RESPONSES_NEW}"]
    assert len(changed.select(".diff-hunk")) == 1
    unchanged = page.select_one("#diff-basics")
    assert text_of(unchanged.select_one("h2 .badge")) == "変更なし" and unchanged.select_one("pre.diff") is None
    assert text_of(page.select_one("#diff-glossary h2 .badge")) == "削除"
    assert [section["id"] for section in page.select(".diff-card")] == [
        "diff-basics",
        "diff-responses",
        "diff-glossary",
    ]

    swapped = parse(
        await admin_client.get(f"/admin/content/courses/{mini_course.id}/compare?old={draft_id}&new={first_id}")
    )
    assert [line.get_text() for line in swapped.select("#diff-responses .diff-added")] == [f"+ {RESPONSES_OLD}"]
    assert text_of(swapped.select_one("#diff-glossary h2 .badge")) == "追加"
    # without a choice, the two newest versions are compared
    default = parse(await admin_client.get(f"/admin/content/courses/{mini_course.id}/compare"))
    assert default.h1.get_text() == "第1版 → 第2版 の違い"
