from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.content import service as content_service
from app.core.deps import CurrentUser, SessionDep
from app.core.templating import render
from app.progress import service

router = APIRouter()


@router.get("/my")
async def my_training(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    from app.certificates import service as certificates_service
    from app.policies import acknowledgments

    context = {
        "courses": await service.my_courses(db, user_id=user.id),
        "readings": await acknowledgments.required_reading(db, user=user),
        "certificate_count": await certificates_service.count_for_user(db, user_id=user.id),
    }
    return render(request, "progress/my.html", context)


@router.get("/courses/{course_slug}")
async def course_page(request: Request, course_slug: str, db: SessionDep, user: CurrentUser) -> Response:
    course, version = await content_service.get_course(db, slug=course_slug)
    progress = await service.progress_for(db, user_id=user.id, course=course, version=version)
    return render(request, "progress/course.html", {"p": progress})
