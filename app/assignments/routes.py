from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.assignments import service
from app.auth import service as auth_service
from app.auth.deps import CurrentUser
from app.content import service as content_service
from app.core.deps import SessionDep
from app.core.errors import InvalidInput
from app.core.ids import parse_id
from app.core.templating import TIMEZONE, render
from app.org import service as org_service
from app.org.deps import ScopeDep

router = APIRouter(prefix="/manage/assignments")


async def _page(request: Request, db: SessionDep, scope, error: str | None = None, status_code: int = 200) -> Response:
    assignments = await service.list_assignments(db, scope=scope)
    context = {
        "assignments": assignments,
        # Earlier cycles of a recurring chain: only the newest one can be stopped.
        "superseded": {a.previous_id for a, _slug, _name in assignments if a.previous_id},
        "courses": await content_service.list_courses(db),
        "departments": await org_service.departments_in_scope(db, scope=scope),
        "error": error,
    }
    return render(request, "assignments/assignments.html", context, status_code=status_code)


@router.get("")
async def assignments_page(request: Request, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    return await _page(request, db, scope)


@router.post("")
async def create_assignment(
    request: Request,
    db: SessionDep,
    user: CurrentUser,
    scope: ScopeDep,
    course: Annotated[str, Form(max_length=63)],
    due_date: Annotated[date | None, Form()] = None,
    department_id: Annotated[str, Form(max_length=20)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    recur_months: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    chosen, _version = await content_service.get_course(db, slug=course)
    due_at = datetime.combine(due_date, time(23, 59), tzinfo=TIMEZONE) if due_date else None
    user_id = None
    if email.strip():
        target = await auth_service.find_by_login(db, login=email)
        if target is None:
            return await _page(request, db, scope, error=f"{email} の受講者が見つかりません。", status_code=422)
        user_id = target.id
    if not department_id.strip() and user_id is None:
        raise InvalidInput("部署を選ぶか、受講者のメールアドレスを入力してください。")
    if department_id.strip() and user_id is not None:
        raise InvalidInput("部署か受講者のどちらか一方だけを指定してください。")
    recurrence = parse_id(recur_months) if recur_months.strip() else None
    if recur_months.strip() and recurrence is None:
        raise InvalidInput("繰り返しの間隔は月数(数字)で指定してください。")
    if recurrence is not None and due_at is None:
        raise InvalidInput("繰り返す割り当てには期限を指定してください(次回の期限は同じ間隔で後ろにずれます)。")
    await service.assign(
        db,
        course_id=chosen.id,
        scope=scope,
        created_by=user,
        due_at=due_at,
        department_id=parse_id(department_id) if department_id.strip() else None,
        user_id=user_id,
        recur_months=recurrence,
    )
    return RedirectResponse("/manage/assignments?created=1", status_code=303)


@router.post("/{assignment_id}/stop-recurrence")
async def stop_recurrence(assignment_id: int, db: SessionDep, user: CurrentUser, scope: ScopeDep) -> Response:
    await service.stop_recurrence(db, assignment_id=assignment_id, scope=scope)
    return RedirectResponse("/manage/assignments?stopped=1", status_code=303)
