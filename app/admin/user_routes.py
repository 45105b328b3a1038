"""ユーザー管理: list, create, edit, deactivate, one-time password links, printed slips and the CSV import."""

from __future__ import annotations

from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from app.auth.deps import AdminUser
from app.auth.models import Role, User
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import AppError
from app.core.ids import page_number, parse_id
from app.core.templating import render
from app.jobs import service as jobs_service
from app.org import service as org_service
from app.users import import_apply, import_jobs, links, service, slips
from app.users.csv_reader import MAX_BYTES as CSV_MAX_BYTES
from app.users.schemas import UserForm

router = APIRouter(prefix="/admin/users")
PER_PAGE = 50
CHOOSER_LIMIT = 10_000


async def _departments(db: SessionDep) -> list[tuple[int, str]]:
    paths = await org_service.department_paths(db)
    return sorted(paths.items(), key=lambda item: item[1])


@router.get("")
async def list_page(
    request: Request, db: SessionDep, _admin: AdminUser, q: str = "", role: str = "", status: str = "", page: int = 1
) -> Response:
    page = page_number(page)
    rows, total = await service.list_users(db, text=q[:100], role=role, status=status, page=page, per_page=PER_PAGE)
    context = {
        "rows": rows,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PER_PAGE)),
        "q": q,
        "role": role,
        "status": status,
        "role_labels": service.ROLE_LABELS,
    }
    return render(request, "admin/users.html", context)


def _form_from(values: dict[str, Any]) -> tuple[UserForm | None, list[str]]:
    try:
        return UserForm.model_validate(values), []
    except ValidationError as error:
        return None, [
            str(problem.get("ctx", {}).get("error", problem["msg"])).removeprefix("Value error, ")
            for problem in error.errors()
        ]


async def _edit_page(
    request: Request,
    db: SessionDep,
    *,
    user: User | None,
    values: dict[str, Any],
    errors: list[str] | None = None,
    status_code: int = 200,
    link: Any = None,
) -> Response:
    context = {
        "target": user,
        "values": values,
        "errors": errors or [],
        "departments": await _departments(db),
        "role_labels": service.ROLE_LABELS,
        "link": link,
        "link_valid_until": (await links.valid_links_until(db, user_ids=[user.id])).get(user.id) if user else None,
    }
    return render(request, "admin/user_edit.html", context, status_code=status_code)


FormStr = Annotated[str, Form(max_length=320)]


def submitted_values(
    name: FormStr = "",
    employee_number: FormStr = "",
    email: FormStr = "",
    role: FormStr = "learner",
    department_id: FormStr = "",
    managed: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies form defaults)
) -> dict[str, Any]:
    """The user form as typed, kept to show again with its errors."""
    return {
        "name": name,
        "employee_number": employee_number,
        "email": email,
        "role": role,
        "department_id": parse_id(department_id),
        "managed_department_ids": sorted({number for m in managed if (number := parse_id(m)) is not None}),
    }


Submitted = Annotated[dict[str, Any], Depends(submitted_values)]


async def _stored_values(db: SessionDep, user: User) -> dict[str, Any]:
    return {
        "name": user.display_name,
        "employee_number": user.employee_number or "",
        "email": user.email or "",
        "role": user.role,
        "department_id": user.department_id,
        "managed_department_ids": await service.managed_department_ids(db, user_id=user.id),
    }


@router.get("/new")
async def new_page(request: Request, db: SessionDep, _admin: AdminUser) -> Response:
    return await _edit_page(request, db, user=None, values={"role": Role.LEARNER.value, "managed_department_ids": []})


@router.post("/new")
async def create(request: Request, db: SessionDep, admin: AdminUser, values: Submitted) -> Response:
    form, errors = _form_from(values)
    if form is None:
        return await _edit_page(request, db, user=None, values=values, errors=errors, status_code=422)
    try:
        user = await service.create_user(db, actor=admin, form=form)
    except AppError as error:
        return await _edit_page(
            request, db, user=None, values=values, errors=[error.message], status_code=error.status_code
        )
    return RedirectResponse(f"/admin/users/{user.id}?created=1", status_code=303)


@router.get("/{user_id:int}")
async def edit_page(request: Request, user_id: int, db: SessionDep, _admin: AdminUser) -> Response:
    user = await service.get_user(db, user_id=user_id)
    return await _edit_page(request, db, user=user, values=await _stored_values(db, user))


@router.post("/{user_id:int}")
async def update(request: Request, user_id: int, db: SessionDep, admin: AdminUser, values: Submitted) -> Response:
    user = await service.get_user(db, user_id=user_id)
    form, errors = _form_from(values)
    if form is None:
        return await _edit_page(request, db, user=user, values=values, errors=errors, status_code=422)
    try:
        await service.update_user(db, actor=admin, user_id=user_id, form=form)
    except AppError as error:
        return await _edit_page(
            request, db, user=user, values=values, errors=[error.message], status_code=error.status_code
        )
    return RedirectResponse(f"/admin/users/{user_id}?saved=1", status_code=303)


@router.post("/{user_id:int}/deactivate")
async def deactivate(user_id: int, db: SessionDep, admin: AdminUser) -> Response:
    await service.set_active(db, actor=admin, user_id=user_id, active=False)
    return RedirectResponse(f"/admin/users/{user_id}?deactivated=1", status_code=303)


@router.post("/{user_id:int}/reactivate")
async def reactivate(user_id: int, db: SessionDep, admin: AdminUser) -> Response:
    await service.set_active(db, actor=admin, user_id=user_id, active=True)
    return RedirectResponse(f"/admin/users/{user_id}?reactivated=1", status_code=303)


@router.post("/{user_id:int}/password-link")
async def password_link(
    request: Request, user_id: int, db: SessionDep, admin: AdminUser, settings: SettingsDep
) -> Response:
    user = await service.get_user(db, user_id=user_id)
    link = await links.issue_password_link(db, actor=admin, user=user, settings=settings)
    values = await _stored_values(db, user)
    # Shown once, on this response only: the link is not stored anywhere it could be read back, and (as for the
    # printed slips and API tokens) no cache may keep a copy of the page either.
    response = await _edit_page(request, db, user=user, values=values, link=link)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- printed slips ------------------------------------------------------------------------------------------


def qr_svg(url: str) -> Markup:
    """The link as an inline SVG QR code: drawn by segno from the URL alone (no user text), so it is safe markup,
    and inline it needs no `data:` images in the page's CSP."""
    svg = segno.make(url, error="m").svg_inline(
        scale=3, border=2, svgclass="qr", omitsize=True, title="パスワード設定用の QR コード"
    )
    return Markup(svg)


@router.get("/slips/choose")
async def choose_slips(
    request: Request, db: SessionDep, _admin: AdminUser, department_id: int | None = None, everyone: bool = False
) -> Response:
    rows, _ = await service.list_users(db, status="no_password", department_id=department_id, per_page=CHOOSER_LIMIT)
    context = {
        "rows": rows,
        "departments": await _departments(db),
        "department_id": department_id,
        # Nobody is ticked unless the admin asks for everyone shown: a slip replaces that person's link.
        "tick_all": everyone,
        "links": await links.valid_links_until(db, user_ids=[row.user.id for row in rows]),
        "limit": slips.MAX_PER_BATCH,
    }
    return render(request, "admin/slips_choose.html", context)


# The chooser lists up to CHOOSER_LIMIT people: every one of them may arrive ticked, and the service then says
# how many may be printed at once (Starlette's default of 1,000 fields would answer with a bare 400 instead).
@router.post("/slips/confirm", form_limits={"max_fields": CHOOSER_LIMIT + 10})
async def confirm_slips(
    request: Request,
    db: SessionDep,
    admin: AdminUser,
    user_ids: Annotated[list[int], Form()] = [],  # noqa: B006
) -> Response:
    plan = await slips.confirm_slips(db, actor=admin, user_ids=user_ids)
    return render(request, "admin/slips_confirm.html", {"plan": plan})


@router.post("/slips/{batch_id:int}")
async def print_slips(
    request: Request, batch_id: int, db: SessionDep, admin: AdminUser, settings: SettingsDep
) -> Response:
    printed = await slips.print_slips(db, actor=admin, batch_id=batch_id, settings=settings)
    context = {
        "slips": [(link, department, qr_svg(link.url)) for link, department in printed],
        "base_url": settings.base_url.rstrip("/"),
    }
    return render(request, "admin/slips.html", context, headers={"Cache-Control": "no-store"})


# --- CSV import ---------------------------------------------------------------------------------------------


@router.get("/import/new")
async def import_page(request: Request, _admin: AdminUser) -> Response:
    return render(request, "admin/users_import.html", {"errors": [], "limit_mb": CSV_MAX_BYTES // 1_000_000})


@router.post("/import")
async def upload_csv(
    request: Request,
    db: SessionDep,
    admin: AdminUser,
    file: Annotated[UploadFile, File()],
    deactivate_missing: Annotated[bool, Form()] = False,
) -> Response:
    data = await file.read(CSV_MAX_BYTES + 1)
    if len(data) > CSV_MAX_BYTES or not data:
        message = (
            "ファイルを選んでください。"
            if not data
            else f"ファイルが大きすぎます({CSV_MAX_BYTES // 1_000_000} MB まで)。"
        )
        return render(
            request,
            "admin/users_import.html",
            {"errors": [message], "limit_mb": CSV_MAX_BYTES // 1_000_000},
            status_code=413 if data else 422,
        )
    upload = await import_apply.store_upload(
        db, actor=admin, filename=file.filename or "upload.csv", data=data, deactivate_missing=deactivate_missing
    )
    return RedirectResponse(f"/admin/users/import/{upload.id}", status_code=303)


@router.get("/import/{import_id:int}")
async def import_plan(request: Request, import_id: int, db: SessionDep, admin: AdminUser) -> Response:
    upload = await import_apply.get_upload(db, import_id=import_id)
    plan = await import_apply.plan_upload(db, upload=upload, acting_user_id=admin.id)
    job = await jobs_service.job_by_key(db, key=import_jobs.job_key(upload.id))
    return render(
        request,
        "admin/users_plan.html",
        {"upload": upload, "plan": plan, "role_labels": service.ROLE_LABELS, "job": job},
    )


@router.post("/import/{import_id:int}/apply")
async def apply_import(
    request: Request, import_id: int, db: SessionDep, admin: AdminUser, digest: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    job_id = await import_jobs.start_apply(db, actor=admin, import_id=import_id, digest=digest)
    return RedirectResponse(f"/admin/users/import/{import_id}?job={job_id}", status_code=303)
