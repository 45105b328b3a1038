"""A lesson's 理解度テスト and the 修了テスト: the test's page, an attempt, its answers saved as they are chosen,
the submission and the result."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from app.auth.deps import CurrentUser
from app.auth.models import User
from app.content import service as content_service
from app.core.deps import SessionDep
from app.core.errors import InvalidInput, NotFound
from app.core.templating import render
from app.learner import service
from app.learner.deps import CourseAtVersion, CurrentCourse, OwnAttempt
from app.progress import standing
from app.quiz import service as quiz_service
from app.quiz.models import AttemptAnswer
from app.quiz.views import attempt_views

router = APIRouter()


async def _quiz_page(request: Request, db: SessionDep, user: User, current: CourseAtVersion, slug: str | None):
    course, version = current.course, current.version
    quiz = (await quiz_service.quizzes_of_version(db, version_id=version.id)).get(slug)
    if quiz is None:
        raise NotFound("このレッスンにはテストがありません。")
    progress = await standing.progress_for(db, user_id=user.id, course=course, version=version)
    attempts = await quiz_service.list_attempts(db, user_id=user.id, course_id=course.id, lesson_slug=slug)
    submitted = [a for a in attempts if a.submitted_at is not None]
    unfinished = next((a for a in attempts if a.submitted_at is None), None)
    remaining = None if not quiz.max_attempts else max(0, quiz.max_attempts - len(attempts))
    lesson_row = next((r for r in progress.lessons if r.lesson.slug == slug), None)
    context = {
        "p": progress,
        "quiz": quiz,
        "attempts": submitted,
        "unfinished": unfinished,
        "remaining": remaining,
        "lesson_row": lesson_row,
        "bank_size": len(quiz.questions),
        "per_attempt": quiz.draw or len(quiz.questions),
    }
    return render(request, "learner/quiz.html", context)


@router.get("/courses/{course_slug}/lessons/{lesson_slug}/test")
async def lesson_test(request: Request, lesson_slug: str, db: SessionDep, user: CurrentUser, current: CurrentCourse):
    return await _quiz_page(request, db, user, current, lesson_slug)


@router.get("/courses/{course_slug}/final-test")
async def final_test(request: Request, db: SessionDep, user: CurrentUser, current: CurrentCourse):
    return await _quiz_page(request, db, user, current, None)


@router.post("/quizzes/{quiz_id}/attempts")
async def start_attempt(quiz_id: int, db: SessionDep, user: CurrentUser) -> Response:
    attempt = await service.start_attempt(db, user_id=user.id, quiz_id=quiz_id)
    return RedirectResponse(f"/attempts/{attempt.id}", status_code=303)


async def _paper(db: SessionDep, own: OwnAttempt, answers: Mapping[str, AttemptAnswer]) -> dict[str, Any]:
    """What the attempt's page and its result show: the paper with these answers."""
    attempt, quiz = own.attempt, own.quiz
    course, version = await content_service.course_of_version(db, version_id=quiz.version_id)
    views = attempt_views(quiz, attempt, answers, misconception_labels=version.misconceptions)
    answered = sum(1 for v in views if v.answered)
    return {
        "attempt": attempt,
        "quiz": quiz,
        "course": course,
        "version": version,
        "questions": views,
        "answered": answered,
    }


@router.get("/attempts/{attempt_id}")
async def attempt_page(request: Request, db: SessionDep, user: CurrentUser, own: OwnAttempt) -> Response:
    attempt, quiz = own.attempt, own.quiz
    context = await _paper(db, own, await quiz_service.stored_answers(db, attempt_id=attempt.id))
    if attempt.submitted_at is None:
        return render(request, "learner/attempt.html", context)
    course = context["course"]
    attempts = await quiz_service.list_attempts(
        db, user_id=user.id, course_id=course.id, lesson_slug=attempt.lesson_slug
    )
    context["can_retry"] = not quiz.max_attempts or len(attempts) < quiz.max_attempts
    context["retry_quiz_id"] = await quiz_service.current_quiz_id(
        db, current_version_id=course.current_version_id, lesson_slug=attempt.lesson_slug
    )
    return render(request, "learner/result.html", context)


def _answers_by_question(form_items: list[tuple[str, str]]) -> dict[str, dict[str, list[str]]]:
    """Form fields are named q.<question id>.<field>; group them per question."""
    grouped: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name, value in form_items:
        parts = name.split(".", 2)
        if len(parts) == 3 and parts[0] == "q":
            grouped[parts[1]][parts[2]].append(value)
    return grouped


# As many fields as Starlette's own form parser allows.
MAX_ANSWER_FIELDS = 1000


async def _form_fields(request: Request) -> list[tuple[str, str]]:
    """The fields posted by the test page. Its forms are URL-encoded, read here with the standard library's
    parser: Starlette's general form parser cost a tenth of a submission's time (docs/performance.md, issue 16,
    third round). Anything else (multipart from another client) goes through Starlette's."""
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        form = await request.form()
        return [(k, str(v)) for k, v in form.multi_items()]
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        return parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_ANSWER_FIELDS)
    except ValueError as error:  # more fields than any test has
        raise InvalidInput("回答の項目が多すぎます。テストのページを開き直してください。") from error


# The button that submits a paper with blank questions after the page has listed them.
BLANKS_CONFIRMED = ("blanks", "confirmed")


@router.post("/attempts/{attempt_id}/answers/{question_id}")
async def save_answer(request: Request, question_id: str, db: SessionDep, own: OwnAttempt) -> Response:
    values = _answers_by_question(await _form_fields(request)).get(question_id, {})
    answer = await quiz_service.save_answer(
        db, attempt=own.attempt, quiz=own.quiz, question_id=question_id, values=values, bank=own.bank
    )
    return render(request, "learner/_saved.html", {"answer": answer, "question_id": question_id})


@router.post("/attempts/{attempt_id}/submit")
async def submit(request: Request, db: SessionDep, user: CurrentUser, own: OwnAttempt) -> Response:
    fields = await _form_fields(request)
    held = await service.submit_attempt(
        db,
        attempt=own.attempt,
        quiz=own.quiz,
        form=_answers_by_question(fields),
        learner=user,
        bank=own.bank,
        blanks_confirmed=BLANKS_CONFIRMED in fields,
    )
    if held is not None:  # blank questions: nothing written; the paper again, with them listed
        context = await _paper(db, own, held.answers)
        context["held_back"] = [view for view in context["questions"] if view.id in held.unanswered]
        return render(request, "learner/attempt.html", context)
    return RedirectResponse(f"/attempts/{own.attempt.id}", status_code=303)
