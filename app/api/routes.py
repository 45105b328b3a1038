"""Read-only JSON API for BI and HR systems: the dashboard's figures and rows, scoped like the token's owner."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.api import schemas
from app.auth import service as auth_service
from app.auth.models import User
from app.content import service as content_service
from app.core.db import utcnow
from app.core.deps import SessionDep
from app.core.errors import AppError
from app.dashboard import analysis, pages, service
from app.dashboard.roster import RosterFilter
from app.dashboard.schemas import DashboardQuery
from app.org import service as org_service
from app.org.scope import Scope

# The errors each endpoint may answer, in the shape they really have: the schema promised FastAPI's default
# {"detail": [...]} for 422 and named no 401, 403 or 404 at all.
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": schemas.ErrorOut, "description": "トークンがない、正しくない、または無効にされている"},
    403: {"model": schemas.ErrorOut, "description": "受講者のトークン(管理者とマネージャーだけが使える)"},
    404: {"model": schemas.ErrorOut, "description": "コースまたは部署が見つからない(担当範囲の外を含む)"},
    422: {"model": schemas.ErrorOut, "description": "パラメータの形式が正しくない"},
}
router = APIRouter(prefix="/api/v1", tags=["受講状況 API"], responses=ERRORS)
bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <API トークン>`(/account/tokens で作成)")


class InvalidToken(AppError):
    status_code = 401
    message = "API トークンが正しくないか、無効にされています。"


async def api_scope(
    request: Request,
    db: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Scope:
    user: User | None = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        user = await auth_service.user_for_api_token(db, token=credentials.credentials)
    if user is None:
        raise InvalidToken()
    return await org_service.manager_scope_for(
        db, user=user, refusal="この API は管理者とマネージャーのトークンでだけ使えます。"
    )


ApiScope = Annotated[Scope, Depends(api_scope)]
Filters = Annotated[DashboardQuery, Query()]


async def _filter(db: SessionDep, scope: Scope, query: DashboardQuery) -> tuple[RosterFilter, object]:
    _courses, course, version = await pages.choose_course(db, slug=query.course)
    roster_filter, _department = await pages.roster_filter_for(db, scope=scope, query=query, course=course)
    return roster_filter, (course, version)


@router.get("/courses", response_model=list[schemas.CourseOut])
async def courses(db: SessionDep, scope: ApiScope) -> list[schemas.CourseOut]:
    return [
        schemas.CourseOut(slug=c.slug, title=v.title, version=v.number)
        for c, v in await content_service.list_courses(db)
    ]


@router.get("/summary", response_model=schemas.SummaryOut)
async def summary(db: SessionDep, scope: ApiScope, query: Filters) -> schemas.SummaryOut:
    roster_filter, (course, _version) = await _filter(db, scope, query)
    everyone = RosterFilter(course_id=course.id, department_path=roster_filter.department_path)
    figures = await service.headline(db, scope=scope, roster_filter=everyone, now=utcnow())
    return schemas.SummaryOut(course=course.slug, department_id=query.department, **figures.as_dict())


@router.get("/departments", response_model=list[schemas.DepartmentOut])
async def departments(db: SessionDep, scope: ApiScope, query: Filters) -> list[schemas.DepartmentOut]:
    roster_filter, (course, _version) = await _filter(db, scope, query)
    everyone = RosterFilter(course_id=course.id, department_path=roster_filter.department_path)
    rows = await service.by_department(db, scope=scope, roster_filter=everyone, now=utcnow())
    return [
        schemas.DepartmentOut(
            department_id=r.department_id,
            name=r.name,
            path=r.path,
            assigned=r.assigned,
            completed=r.completed,
            overdue=r.overdue,
            completion_rate=r.completion_rate,
        )
        for r in rows
    ]


@router.get("/employees", response_model=schemas.EmployeePageOut)
async def employees(
    db: SessionDep, scope: ApiScope, query: Filters, per_page: Annotated[int, Query(ge=1, le=1000)] = 100
) -> schemas.EmployeePageOut:
    roster_filter, _course = await _filter(db, scope, query)
    page = await service.employee_page(
        db,
        scope=scope,
        roster_filter=roster_filter,
        now=utcnow(),
        sort=query.sort,
        descending=query.dir == "desc",
        page=query.page,
        per_page=per_page,
    )
    items = [schemas.EmployeeOut(**{**row, "overdue": bool(row["overdue"])}) for row in page.rows]
    return schemas.EmployeePageOut(total=page.total, page=page.page, per_page=page.per_page, items=items)


@router.get("/items", response_model=list[schemas.ItemOut])
async def items(db: SessionDep, scope: ApiScope, query: Filters) -> list[schemas.ItemOut]:
    roster_filter, (course, version) = await _filter(db, scope, query)
    everyone = RosterFilter(course_id=course.id, department_path=roster_filter.department_path)
    definitions = await pages.question_definitions(db, version_id=version.id)
    rows = await analysis.item_analysis(db, scope=scope, roster_filter=everyone, now=utcnow(), definitions=definitions)
    return [
        schemas.ItemOut(
            question_id=r.question_id,
            prompt=r.prompt,
            answered=r.answered,
            correct=r.correct,
            correct_rate=r.correct_rate,
            top_wrong_answer=r.top_wrong,
            top_wrong_count=r.top_wrong_count,
        )
        for r in rows
    ]


@router.get("/misconceptions", response_model=list[schemas.MisconceptionOut])
async def misconceptions(db: SessionDep, scope: ApiScope, query: Filters) -> list[schemas.MisconceptionOut]:
    roster_filter, (course, version) = await _filter(db, scope, query)
    everyone = RosterFilter(course_id=course.id, department_path=roster_filter.department_path)
    all_departments = await org_service.departments_in_scope(db, scope=scope)
    groups = service.chart_groups(all_departments, roster_filter.department_path)
    rows = await analysis.misconceptions(
        db, scope=scope, roster_filter=everyone, now=utcnow(), labels=version.misconceptions, groups=groups
    )
    return [schemas.MisconceptionOut(key=r.key, label=r.label, count=r.count, by_department=r.by_group) for r in rows]
