from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.content import service as content_service
from app.core.deps import CurrentUser, SessionDep
from app.core.templating import is_htmx, render
from app.lessons import service
from app.progress import service as progress_service

router = APIRouter(prefix="/courses/{course_slug}/lessons/{lesson_slug}")
HEARTBEAT_SECONDS = 30


@router.get("")
async def lesson_page(
    request: Request, course_slug: str, lesson_slug: str, db: SessionDep, user: CurrentUser
) -> Response:
    course, version = await content_service.get_course(db, slug=course_slug)
    lesson = await service.get_lesson(db, version_id=version.id, slug=lesson_slug)
    progress = await progress_service.visit_lesson(db, user_id=user.id, course=course, version=version,
                                                   lesson_slug=lesson.slug)  # fmt: skip
    row = next((r for r in progress.lessons if r.lesson.slug == lesson.slug), None)
    previous, following = service.neighbours([r.lesson for r in progress.lessons], lesson.slug)
    context = {"p": progress, "lesson": lesson, "row": row, "previous": previous, "following": following,
               "heartbeat": HEARTBEAT_SECONDS}  # fmt: skip
    return render(request, "lessons/lesson.html", context)


@router.post("/read")
async def mark_read(
    request: Request, course_slug: str, lesson_slug: str, db: SessionDep, user: CurrentUser
) -> Response:
    course, version = await content_service.get_course(db, slug=course_slug)
    lesson = await service.get_lesson(db, version_id=version.id, slug=lesson_slug)
    await progress_service.mark_read(
        db, user_id=user.id, course_id=course.id, lesson_slug=lesson.slug, version_id=version.id
    )
    progress = await progress_service.refresh(db, user_id=user.id, course=course, version=version)
    row = next((r for r in progress.lessons if r.lesson.slug == lesson.slug), None)
    if is_htmx(request):
        context = {"p": progress, "lesson": lesson, "row": row}
        return render(request, "lessons/lesson.html", context, block="read_state")
    return RedirectResponse(f"/courses/{course.slug}/lessons/{lesson.slug}#read-state", status_code=303)


@router.post("/heartbeat")
async def heartbeat(course_slug: str, lesson_slug: str, db: SessionDep, user: CurrentUser) -> Response:
    course, _version = await content_service.get_course(db, slug=course_slug)
    await progress_service.add_reading_time(
        db, user_id=user.id, course_id=course.id, lesson_slug=lesson_slug, seconds=HEARTBEAT_SECONDS
    )
    return Response(status_code=204)
