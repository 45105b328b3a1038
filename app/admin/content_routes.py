"""コンテンツ管理: upload a pack, preview a draft, edit a lesson, publish, roll back, compare versions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from app.audit import service as audit
from app.auth.deps import AdminUser
from app.authoring import compare as comparing
from app.authoring import drafts, editing, history, publication
from app.authoring.schemas import Source
from app.content import service as content_service
from app.content.archive import ArchiveLimits
from app.content.errors import ContentError, PackInvalid
from app.core.deps import SessionDep
from app.core.errors import NotFound
from app.core.templating import is_htmx, render
from app.lessons import service as lessons_service
from app.quiz import service as quiz_service
from app.quiz import views

router = APIRouter(prefix="/admin/content")
UPLOAD_LIMIT = ArchiveLimits().max_archive_bytes
FILE_LIMIT = 1_000_000


async def _read_limited(upload: UploadFile, limit: int) -> bytes | None:
    """The upload's bytes, or None when larger than `limit` (read no further than that)."""
    data = await upload.read(limit + 1)
    return None if len(data) > limit else data


async def _overview(
    request: Request,
    db: SessionDep,
    *,
    errors: list[ContentError] | None = None,
    message: str | None = None,
    status_code: int = 200,
) -> Response:
    courses = await history.list_courses_for_admin(db)
    context = {"courses": courses, "errors": errors or [], "message": message, "limit_mb": UPLOAD_LIMIT // 1_000_000}
    return render(request, "admin/content.html", context, status_code=status_code)


@router.get("")
async def overview(request: Request, db: SessionDep, _admin: AdminUser) -> Response:
    return await _overview(request, db)


@router.post("/upload")
async def upload(
    request: Request,
    db: SessionDep,
    admin: AdminUser,
    pack: Annotated[UploadFile, File()],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    data = await _read_limited(pack, UPLOAD_LIMIT)
    if data is None:
        problem = ContentError(
            pack.filename or "upload", None, f"ファイルが大きすぎます({UPLOAD_LIMIT // 1_000_000} MB まで)"
        )
        return await _overview(request, db, errors=[problem], status_code=413)
    if not data:
        return await _overview(
            request, db, errors=[ContentError("upload", None, "ファイルを選んでください")], status_code=422
        )
    try:
        version = await drafts.upload_zip(db, data=data, filename=pack.filename, actor=admin, note=note)
    except PackInvalid as error:
        return await _overview(request, db, errors=error.errors, message=error.message, status_code=422)
    return RedirectResponse(f"/admin/content/versions/{version.id}?uploaded=1", status_code=303)


@router.get("/courses/{course_id}")
async def history_page(request: Request, course_id: int, db: SessionDep, _admin: AdminUser) -> Response:
    rows = await _versions_or_404(db, course_id)
    # Rollbacks move the current version without creating one: the log of switches says when and by whom.
    switches = await audit.events_for(
        db,
        target_type="course_version",
        target_ids=[row.version.id for row in rows],
        actions=("content.publish", "content.rollback"),
    )
    numbers = {row.version.id: row.version.number for row in rows}
    context = {
        "rows": rows,
        "course_id": course_id,
        "switches": switches,
        "numbers": numbers,
        "course_row": await content_service.course_row(db, course_id=course_id),
    }
    return render(request, "admin/history.html", context)


async def _versions_or_404(db: SessionDep, course_id: int) -> list[history.VersionRow]:
    rows = await history.list_versions(db, course_id=course_id)
    if not rows:  # every draft of a never-published course was discarded: the pages below had nothing to show
        raise NotFound("このコースには版がありません。")
    return rows


@router.get("/courses/{course_id}/compare")
async def compare(
    request: Request, course_id: int, db: SessionDep, _admin: AdminUser, old: int = 0, new: int = 0
) -> Response:
    rows = await _versions_or_404(db, course_id)
    ids = [row.version.id for row in rows]
    if old not in ids or new not in ids:
        new = new if new in ids else ids[0]
        old = old if old in ids else (ids[1] if len(ids) > 1 else ids[0])
    diffs = await comparing.compare(db, old_version_id=old, new_version_id=new)
    by_id = {row.version.id: row.version for row in rows}
    context = {"rows": rows, "course_id": course_id, "old": by_id[old], "new": by_id[new], "diffs": diffs}
    return render(request, "admin/compare.html", context)


async def _version_page(
    request: Request,
    db: SessionDep,
    version_id: int,
    *,
    errors: list[ContentError] | None = None,
    status_code: int = 200,
) -> Response:
    course, version = await content_service.course_of_version(db, version_id=version_id)
    lessons = await lessons_service.list_lessons(db, version_id=version.id)
    quizzes = await quiz_service.quizzes_of_version(db, version_id=version.id)
    changed = await publication.changed_lessons(db, old_version_id=course.current_version_id, new_version_id=version.id)
    # Versions imported before files were kept have none: they can be previewed, not edited.
    paths = await editing.stored_paths(db, version_id=version.id)
    replaceable = [path for path in paths if path.endswith((".md", ".yaml", ".yml")) and path != "course.yaml"]
    context = {
        "course": course,
        "version": version,
        "lessons": lessons,
        "quizzes": quizzes,
        "errors": errors or [],
        "changed": changed if course.current_version_id != version.id else [],
        "editable": bool(paths),
        "replaceable": replaceable,
        "is_current": course.current_version_id == version.id,
    }
    return render(request, "admin/version.html", context, status_code=status_code)


@router.get("/versions/{version_id}")
async def version_page(request: Request, version_id: int, db: SessionDep, _admin: AdminUser) -> Response:
    return await _version_page(request, db, version_id)


@router.post("/versions/{version_id}/publish")
async def publish(
    version_id: int, db: SessionDep, admin: AdminUser, reread: Annotated[bool, Form()] = False
) -> Response:
    course, version = await content_service.course_of_version(db, version_id=version_id)
    await publication.publish(db, version_id=version_id, actor=admin, reread_changed=reread)
    return RedirectResponse(f"/admin/content/courses/{course.id}?published={version.number}", status_code=303)


@router.post("/versions/{version_id}/rollback")
async def rollback(version_id: int, db: SessionDep, admin: AdminUser) -> Response:
    version = await publication.rollback(db, version_id=version_id, actor=admin, source=Source.WEB)
    return RedirectResponse(f"/admin/content/courses/{version.course_id}?rolled_back={version.number}", status_code=303)


@router.post("/versions/{version_id}/discard")
async def discard(version_id: int, db: SessionDep, admin: AdminUser) -> Response:
    course, _version = await drafts.discard_draft(db, version_id=version_id, actor=admin)
    # After the only draft of a never-published course there is no history left to show (it was a 500).
    remaining = await history.list_versions(db, course_id=course.id)
    target = f"/admin/content/courses/{course.id}" if remaining else "/admin/content"
    return RedirectResponse(target, status_code=303)


@router.post("/versions/{version_id}/replace")
async def replace_file(
    request: Request,
    version_id: int,
    db: SessionDep,
    admin: AdminUser,
    path: Annotated[str, Form(max_length=255)],
    file: Annotated[UploadFile, File()],
) -> Response:
    data = await _read_limited(file, FILE_LIMIT)
    if data is None:
        return await _version_page(
            request,
            db,
            version_id,
            errors=[ContentError(path, None, "ファイルが大きすぎます(1 MB まで)")],
            status_code=413,
        )
    try:
        draft = await drafts.replace_file(
            db, base_version_id=version_id, path=path, data=data, filename=file.filename, actor=admin
        )
    except PackInvalid as error:
        return await _version_page(request, db, version_id, errors=error.errors, status_code=422)
    return RedirectResponse(f"/admin/content/versions/{draft.id}?uploaded=1", status_code=303)


@router.get("/versions/{version_id}/lessons/{slug}")
async def preview_lesson(request: Request, version_id: int, slug: str, db: SessionDep, _admin: AdminUser) -> Response:
    course, version = await content_service.course_of_version(db, version_id=version_id)
    lesson = await lessons_service.get_lesson(db, version_id=version.id, slug=slug)
    lessons = await lessons_service.list_lessons(db, version_id=version.id)
    previous, following = lessons_service.neighbours(lessons, slug)
    context = {"course": course, "version": version, "lesson": lesson, "previous": previous, "following": following}
    return render(request, "admin/preview_lesson.html", context)


@router.get("/versions/{version_id}/quizzes/{slug}")
async def preview_quiz(request: Request, version_id: int, slug: str, db: SessionDep, _admin: AdminUser) -> Response:
    course, version = await content_service.course_of_version(db, version_id=version_id)
    quizzes = await quiz_service.quizzes_of_version(db, version_id=version.id)
    quiz = quizzes.get(None if slug == "final" else slug)
    if quiz is None:
        raise NotFound("テストが見つかりません。")
    questions = views.preview_views(quiz)
    misconceptions = views.misconceptions_by_question(quiz, version.misconceptions)
    context = {
        "course": course,
        "version": version,
        "quiz": quiz,
        "questions": questions,
        "preview": True,
        "misconceptions": misconceptions,
    }
    return render(request, "admin/preview_quiz.html", context)


async def _editor_page(
    request: Request,
    db: SessionDep,
    version_id: int,
    editor: editing.LessonEditor,
    text: str,
    *,
    problems: list[ContentError] | None = None,
    block: str | None = None,
    status_code: int = 200,
) -> Response:
    course, version = await content_service.course_of_version(db, version_id=version_id)
    preview, found = editor.preview(text)
    context = {
        "course": course,
        "version": version,
        "source": editor.source,
        "text": text,
        "preview_html": preview,
        "problems": found if problems is None else problems,
    }
    return render(request, "admin/edit_lesson.html", context, block=block, status_code=status_code)


@router.get("/versions/{version_id}/lessons/{slug}/edit")
async def edit_lesson(request: Request, version_id: int, slug: str, db: SessionDep, _admin: AdminUser) -> Response:
    editor = await editing.open_lesson(db, version_id=version_id, slug=slug)
    return await _editor_page(request, db, version_id, editor, editor.source.text)


@router.post("/versions/{version_id}/lessons/{slug}/preview")
async def live_preview(
    request: Request,
    version_id: int,
    slug: str,
    db: SessionDep,
    _admin: AdminUser,
    text: Annotated[str, Form(max_length=1_000_000)] = "",
) -> Response:
    editor = await editing.open_lesson(db, version_id=version_id, slug=slug)
    return await _editor_page(request, db, version_id, editor, text, block="preview" if is_htmx(request) else None)


@router.post("/versions/{version_id}/lessons/{slug}/edit")
async def save_lesson(
    request: Request,
    version_id: int,
    slug: str,
    db: SessionDep,
    admin: AdminUser,
    text: Annotated[str, Form(max_length=1_000_000)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    editor = await editing.open_lesson(db, version_id=version_id, slug=slug)
    try:
        draft = await drafts.save_lesson(
            db, base_version_id=version_id, source=editor.source, text=text, actor=admin, note=note
        )
    except PackInvalid as error:
        return await _editor_page(request, db, version_id, editor, text, problems=error.errors, status_code=422)
    return RedirectResponse(f"/admin/content/versions/{draft.id}?edited={slug}", status_code=303)
