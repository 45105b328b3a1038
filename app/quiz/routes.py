from __future__ import annotations

from collections import defaultdict

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.content import service as content_service
from app.core.deps import CurrentUser, SessionDep
from app.core.errors import Conflict, NotFound
from app.core.templating import render
from app.progress import service as progress_service
from app.quiz import service
from app.quiz.views import attempt_views

router = APIRouter()


async def _quiz_page(request: Request, db: SessionDep, user: CurrentUser, course_slug: str, slug: str | None):
    course, version = await content_service.get_course(db, slug=course_slug)
    quizzes = await service.quizzes_of_version(db, version_id=version.id)
    quiz = quizzes.get(slug)
    if quiz is None:
        raise NotFound("このレッスンにはテストがありません。")
    progress = await progress_service.progress_for(db, user_id=user.id, course=course, version=version)
    attempts = await service.list_attempts(db, user_id=user.id, course_id=course.id, lesson_slug=slug)
    submitted = [a for a in attempts if a.submitted_at is not None]
    unfinished = next((a for a in attempts if a.submitted_at is None), None)
    remaining = None if not quiz.max_attempts else max(0, quiz.max_attempts - len(attempts))
    lesson_row = next((r for r in progress.lessons if r.lesson.slug == slug), None)
    context = {"p": progress, "quiz": quiz, "attempts": submitted, "unfinished": unfinished,
               "remaining": remaining, "lesson_row": lesson_row,
               "bank_size": len(quiz.questions), "per_attempt": quiz.draw or len(quiz.questions)}  # fmt: skip
    return render(request, "quiz/quiz.html", context)


@router.get("/courses/{course_slug}/lessons/{lesson_slug}/test")
async def lesson_test(request: Request, course_slug: str, lesson_slug: str, db: SessionDep, user: CurrentUser):
    return await _quiz_page(request, db, user, course_slug, lesson_slug)


@router.get("/courses/{course_slug}/final-test")
async def final_test(request: Request, course_slug: str, db: SessionDep, user: CurrentUser):
    return await _quiz_page(request, db, user, course_slug, None)


@router.post("/quizzes/{quiz_id}/attempts")
async def start_attempt(quiz_id: int, db: SessionDep, user: CurrentUser) -> Response:
    quiz = await service.get_quiz(db, quiz_id=quiz_id)
    course, version = await content_service.course_of_version(db, version_id=quiz.version_id)
    if course.current_version_id != version.id:
        raise Conflict("このテストは新しい版に更新されました。コースのページから開き直してください。")
    attempt = await service.start_attempt(db, user_id=user.id, course_id=course.id, quiz=quiz)
    return RedirectResponse(f"/attempts/{attempt.id}", status_code=303)


@router.get("/attempts/{attempt_id}")
async def attempt_page(request: Request, attempt_id: int, db: SessionDep, user: CurrentUser) -> Response:
    attempt = await service.get_own_attempt(db, attempt_id=attempt_id, user_id=user.id)
    quiz = await service.get_quiz(db, quiz_id=attempt.quiz_id)
    course, version = await content_service.course_of_version(db, version_id=quiz.version_id)
    answers = await service.stored_answers(db, attempt_id=attempt.id)
    views = attempt_views(quiz, attempt, answers, misconception_labels=version.misconceptions)
    context = {"attempt": attempt, "quiz": quiz, "course": course, "version": version, "questions": views,
               "answered": sum(1 for v in views if v.answered)}  # fmt: skip
    if attempt.submitted_at is not None:
        attempts = await service.list_attempts(
            db, user_id=user.id, course_id=course.id, lesson_slug=attempt.lesson_slug
        )
        used = len(attempts)
        context["can_retry"] = not quiz.max_attempts or used < quiz.max_attempts
        context["retry_quiz_id"] = await service.current_quiz_id(db, course=course, lesson_slug=attempt.lesson_slug)
        return render(request, "quiz/result.html", context)
    return render(request, "quiz/attempt.html", context)


def _answers_by_question(form_items: list[tuple[str, str]]) -> dict[str, dict[str, list[str]]]:
    """Form fields are named q.<question id>.<field>; group them per question."""
    grouped: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name, value in form_items:
        parts = name.split(".", 2)
        if len(parts) == 3 and parts[0] == "q":
            grouped[parts[1]][parts[2]].append(value)
    return grouped


@router.post("/attempts/{attempt_id}/answers/{question_id}")
async def save_answer(
    request: Request, attempt_id: int, question_id: str, db: SessionDep, user: CurrentUser
) -> Response:
    attempt = await service.get_own_attempt(db, attempt_id=attempt_id, user_id=user.id)
    quiz = await service.get_quiz(db, quiz_id=attempt.quiz_id)
    form = await request.form()
    values = _answers_by_question([(k, str(v)) for k, v in form.multi_items()]).get(question_id, {})
    answer = await service.save_answer(db, attempt=attempt, quiz=quiz, question_id=question_id, values=values)
    return render(request, "quiz/_saved.html", {"answer": answer, "question_id": question_id})


@router.post("/attempts/{attempt_id}/submit")
async def submit(request: Request, attempt_id: int, db: SessionDep, user: CurrentUser) -> Response:
    attempt = await service.get_own_attempt(db, attempt_id=attempt_id, user_id=user.id)
    quiz = await service.get_quiz(db, quiz_id=attempt.quiz_id)
    form = await request.form()
    answers = _answers_by_question([(k, str(v)) for k, v in form.multi_items()])
    if await service.submit_attempt(db, attempt=attempt, quiz=quiz, form=answers):
        course, _version = await content_service.course_of_version(db, version_id=quiz.version_id)
        current_course, current_version = await content_service.get_course(db, slug=course.slug)
        await progress_service.refresh(db, user_id=user.id, course=current_course, version=current_version)
    return RedirectResponse(f"/attempts/{attempt.id}", status_code=303)
