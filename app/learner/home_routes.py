"""マイ研修 (every assigned course with its progress, the documents to read, the certificates) and a course's page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.auth.deps import CurrentUser
from app.certificates import service as certificates_service
from app.core.deps import SessionDep
from app.core.templating import render
from app.documents import acknowledgments
from app.learner.deps import CurrentCourse
from app.progress import standing

router = APIRouter()


@router.get("/my")
async def my_training(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    context = {
        "courses": await standing.my_courses(db, user_id=user.id),
        "readings": await acknowledgments.required_reading(db, user=user),
        "certificate_count": await certificates_service.count_for_user(db, user_id=user.id),
    }
    return render(request, "learner/my.html", context)


@router.get("/courses/{course_slug}")
async def course_page(request: Request, db: SessionDep, user: CurrentUser, current: CurrentCourse) -> Response:
    progress = await standing.progress_for(db, user_id=user.id, course=current.course, version=current.version)
    return render(request, "learner/course.html", {"p": progress})
