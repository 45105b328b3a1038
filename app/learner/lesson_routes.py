"""The lesson page, 読了にする, and the reading-time heartbeat."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.auth.deps import CurrentUser
from app.core.deps import SessionDep
from app.core.templating import is_htmx, render
from app.learner.deps import CurrentCourse
from app.lessons import service as lessons_service
from app.progress import activity
from app.progress import lesson_page as lesson_view

router = APIRouter(prefix="/courses/{course_slug}/lessons/{lesson_slug}")
HEARTBEAT_SECONDS = 30


@router.get("")
async def lesson_page(
    request: Request, course_slug: str, lesson_slug: str, db: SessionDep, user: CurrentUser
) -> Response:
    page = await lesson_view.lesson_page(db, user_id=user.id, course_slug=course_slug, lesson_slug=lesson_slug)
    context = {
        "p": page.p,
        "lesson": page.lesson,
        "row": page.row,
        "previous": page.previous,
        "following": page.following,
        "heartbeat": HEARTBEAT_SECONDS,
    }
    return render(request, "learner/lesson.html", context)


@router.post("/read")
async def mark_read(
    request: Request, lesson_slug: str, db: SessionDep, user: CurrentUser, current: CurrentCourse
) -> Response:
    course, version = current.course, current.version
    lesson = await lessons_service.get_lesson(db, version_id=version.id, slug=lesson_slug)
    try:
        progress = await activity.read_lesson(
            db, user_id=user.id, course=course, version=version, lesson_slug=lesson.slug
        )
    except activity.ReadTooSoon as too_soon:  # the read card again, saying how long is left; nothing recorded
        page = await lesson_view.lesson_page(db, user_id=user.id, course_slug=course.slug, lesson_slug=lesson.slug)
        context = {"p": page.p, "lesson": page.lesson, "row": page.row, "read_refusal": str(too_soon)}
        if is_htmx(request):
            # 200: the card is the answer (a 4xx would also show as a failed load in the browser's console)
            return render(request, "learner/lesson.html", context, block="read_state")
        context.update(previous=page.previous, following=page.following, heartbeat=HEARTBEAT_SECONDS)
        return render(request, "learner/lesson.html", context, status_code=422)
    if is_htmx(request):
        row = next((r for r in progress.lessons if r.lesson.slug == lesson.slug), None)
        return render(request, "learner/lesson.html", {"p": progress, "lesson": lesson, "row": row}, block="read_state")
    return RedirectResponse(f"/courses/{course.slug}/lessons/{lesson.slug}#read-state", status_code=303)


@router.post("/heartbeat")
async def heartbeat(lesson_slug: str, db: SessionDep, user: CurrentUser, current: CurrentCourse) -> Response:
    await activity.add_reading_time(
        db, user_id=user.id, course_id=current.course.id, lesson_slug=lesson_slug, seconds=HEARTBEAT_SECONDS
    )
    return Response(status_code=204)
