from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from app.auth.deps import CurrentUser
from app.content import service as content_service
from app.core.csvfile import BOM, csv_cell, csv_date, csv_datetime
from app.core.db import utcnow
from app.core.deps import SessionDep, SettingsDep
from app.core.priority import Turns
from app.core.templating import is_htmx, render, render_in_turns
from app.dashboard import fragments, pages, people, reminders, service
from app.dashboard.roster import STATUS_LABELS
from app.dashboard.schemas import DashboardQuery
from app.lessons import service as lessons_service
from app.org import service as org_service
from app.org.deps import ScopeDep
from app.quiz import service as quiz_service
from app.quiz.views import attempt_views

router = APIRouter(prefix="/dashboard")


QueryDep = Annotated[DashboardQuery, Query()]


@router.get("")
async def dashboard(request: Request, db: SessionDep, user: CurrentUser, scope: ScopeDep, query: QueryDep) -> Response:
    if is_htmx(request) and request.headers.get("HX-Target") == "employee-table":
        table = await pages.build_table(db, scope=scope, query=query, now=utcnow())
        return render(request, "dashboard/dashboard.html", {"d": table, "q": query}, block="employee_table")
    # Between its pieces the whole-company page lets learners' requests go first (app/core/priority.py).
    turn = Turns(request.app.state.learners_first)
    await turn()
    board = await pages.build(db, scope=scope, query=query, now=utcnow())
    await turn()
    figures = fragments.figures_html(request, board, query)
    context = {"d": board, "q": query, "figures_html": figures}
    return await render_in_turns(request, "dashboard/dashboard.html", context, between=turn)


@router.get("/employees/{user_id}")
async def employee(
    request: Request, user_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep, course: str | None = None
) -> Response:
    person = await people.get_employee(db, user_id=user_id, scope=scope)
    courses, chosen, version = await pages.choose_course(db, slug=course)
    enrollment, status = await people.standing(db, user_id=user_id, course_id=chosen.id)
    lessons = await lessons_service.list_lessons(db, version_id=version.id)
    context = {
        "person": person,
        "courses": courses,
        "course": chosen,
        "version": version,
        "enrollment": enrollment,
        "status": status,
        "attempts": await quiz_service.list_attempts(db, user_id=user_id, course_id=chosen.id),
        "lesson_progress": await people.lesson_progress(db, user_id=user_id, course_id=chosen.id),
        "lessons": lessons,
        "lesson_titles": {lesson.slug: lesson.title for lesson in lessons},
        "reminders": await reminders.reminders_for(db, user_id=user_id, course_id=chosen.id),
    }
    return render(request, "dashboard/employee.html", context)


@router.get("/attempts/{attempt_id}")
async def attempt(request: Request, attempt_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    found, person = await people.get_attempt_in_scope(db, attempt_id=attempt_id, scope=scope)
    quiz = await quiz_service.get_quiz(db, quiz_id=found.quiz_id)
    course, version = await content_service.course_of_version(db, version_id=quiz.version_id)
    answers = await quiz_service.stored_answers(db, attempt_id=found.id)
    views = attempt_views(quiz, found, answers, misconception_labels=version.misconceptions)
    context = {
        "attempt": found,
        "quiz": quiz,
        "course": course,
        "version": version,
        "person": person,
        "questions": views,
    }
    return render(request, "dashboard/attempt.html", context)


def _back_to_dashboard(back: str, course_slug: str) -> str:
    """Where a 督促 page leads back to: the dashboard view it came from, never another site or page."""
    return back if back.startswith("/dashboard") else f"/dashboard?course={course_slug}"


@router.post("/remind/confirm")
async def confirm_reminders(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    course: Annotated[str, Form(max_length=63)],
    user_ids: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    all_overdue: Annotated[bool, Form()] = False,
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Before a 督促 is sent: how many people get a mail, and who does not, and why. Nothing is sent here."""
    _courses, chosen, version = await pages.choose_course(db, slug=course)
    found = await reminders.preview(
        db, scope=scope, course=chosen, now=utcnow(), user_ids=user_ids, all_overdue=all_overdue
    )
    context = {
        "course": chosen,
        "version": version,
        "preview": found,
        "user_ids": sorted(set(user_ids)),
        "all_overdue": all_overdue,
        "back": _back_to_dashboard(back, chosen.slug),
    }
    return render(request, "dashboard/remind_confirm.html", context)


@router.post("/remind")
async def remind(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: CurrentUser,
    scope: ScopeDep,
    course: Annotated[str, Form(max_length=63)],
    user_ids: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    all_overdue: Annotated[bool, Form()] = False,
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    _courses, chosen, version = await pages.choose_course(db, slug=course)
    # Who exactly is reminded is decided by the job, within the sender's scope (the page's scope check above
    # refuses people who manage nothing); the page shows the job's progress.
    job_id = await reminders.request_reminders(
        db, sender=user, course=chosen, version=version, now=utcnow(), user_ids=user_ids, all_overdue=all_overdue
    )
    target = _back_to_dashboard(back, chosen.slug)
    separator = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{separator}job={job_id}", status_code=303)


CSV_COLUMNS = [
    "氏名",
    "社員番号",
    "メールアドレス",
    "部署",
    "状況",
    "期限超過",
    "進捗(%)",
    "最高点(平均)",
    "受験回数",
    "最終学習日時",
    "修了日時",
    "期限",
]


@router.get("/export.csv")
async def export_csv(request: Request, db: SessionDep, user: CurrentUser, scope: ScopeDep, query: QueryDep):
    _courses, course, _version = await pages.choose_course(db, slug=query.course)
    roster_filter, _department = await pages.roster_filter_for(db, scope=scope, query=query, course=course)
    sessionmaker = request.app.state.sessionmaker
    now = utcnow()
    department_paths = await org_service.department_paths(db)  # 本社/営業部/第一課, not only 第一課

    async def lines() -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        buffer.write(BOM)
        writer.writerow(CSV_COLUMNS)
        # Its own session: the request's session is closed before a streamed body is sent.
        async with sessionmaker() as stream_session:
            batch = 0
            async for row in service.stream_rows(stream_session, scope=scope, roster_filter=roster_filter, now=now):
                writer.writerow(
                    [
                        csv_cell(v)
                        for v in (
                            row["name"],
                            row["employee_number"],
                            row["email"],
                            department_paths.get(row["department_id"], row["department"]),
                            STATUS_LABELS[row["status"]],
                            "はい" if row["overdue"] else "",
                            row["percent"],
                            "" if row["best_score"] is None else row["best_score"],
                            row["attempts"],
                            csv_datetime(row["last_activity_at"]),
                            csv_datetime(row["completed_at"]),
                            csv_date(row["due_at"]),
                        )
                    ]
                )
                batch += 1
                if batch >= 500:
                    yield buffer.getvalue().encode("utf-8")
                    buffer.seek(0)
                    buffer.truncate()
                    batch = 0
        yield buffer.getvalue().encode("utf-8")

    filename = f"jukou-{course.slug}-{now.strftime('%Y%m%d')}.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
