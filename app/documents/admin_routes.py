"""The admin's side of the policy and manual: the step-by-step draft, preview, publishing, versions and who has
acknowledged what."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.auth.deps import AdminUser
from app.core.deps import SessionDep, SettingsDep
from app.core.downloads import CSV, PDF, download
from app.core.errors import AppError, NotFound
from app.core.ids import page_number, parse_id
from app.core.templating import is_htmx, render
from app.documents import acknowledgments, company_course, exports, service
from app.documents.models import CompanyDocument
from app.documents.wizard import is_empty, parse_step_form
from app.org import service as org_service
from app.org.scope import EVERYTHING

router = APIRouter(prefix="/admin/documents")


def _steps_for(kind: service.Kind) -> list[tuple[str, str]]:
    """(key, title) of every page of the wizard, the manual's full-text step and the preview included."""
    steps = [(step.key, step.title) for step in kind.steps]
    if kind.key == "manual":
        steps.append((service.TEMPLATE_STEP, service.TEMPLATE_TITLE))
    return [*steps, (company_course.TEST_STEP, "社内テスト(任意)"), ("preview", "確認と公開")]


def _is_free_step(kind: service.Kind, key: str) -> bool:
    """Pages of the wizard that are not a form of fields: the manual's full text and the company test."""
    return key == company_course.TEST_STEP or (kind.key == "manual" and key == service.TEMPLATE_STEP)


def _neighbours(kind: service.Kind, key: str) -> tuple[str | None, str | None]:
    keys = [step_key for step_key, _title in _steps_for(kind)]
    index = keys.index(key)
    return (keys[index - 1] if index else None), (keys[index + 1] if index + 1 < len(keys) else None)


def _step_url(kind: service.Kind, key: str) -> str:
    return f"/admin/documents/{kind.key}/preview" if key == "preview" else f"/admin/documents/{kind.key}/steps/{key}"


@router.get("")
async def overview(request: Request, db: SessionDep, admin: AdminUser) -> Response:
    documents = []
    for kind in service.KINDS.values():
        document = await service.get_document(db, kind=kind)
        current = await service.current_version(db, document=document)
        report = await acknowledgments.acknowledgment_summary(db, document=document) if current else None
        documents.append((kind, document, current, report))
    return render(request, "documents/overview.html", {"documents": documents})


@router.get("/{kind_key}")
async def document_page(request: Request, kind_key: str, db: SessionDep, admin: AdminUser) -> Response:
    kind = service.kind_for(kind_key)
    document = await service.get_document(db, kind=kind)
    current = await service.current_version(db, document=document)
    context = {
        "kind": kind,
        "document": document,
        "current": current,
        "versions": await service.list_versions(db, document=document),
        "report": await acknowledgments.acknowledgment_summary(db, document=document) if current else None,
        "audience": await org_service.department_name(db, department_id=document.department_id),
        "first_step": _steps_for(kind)[0][0],
        "unpublished": service.has_unpublished_changes(kind, document, current),
        "checklist": service.draft_checklist(kind, document.draft or {}),
    }
    return render(request, "documents/document.html", context)


async def _step_page(
    request: Request,
    db: SessionDep,
    kind: service.Kind,
    key: str,
    errors: dict[str, str] | None = None,
    submitted: dict | None = None,
    status_code: int = 200,
) -> Response:
    document = await service.get_document(db, kind=kind)
    step = service.step_for(kind, key)
    previous, following = _neighbours(kind, key)
    context = {
        "kind": kind,
        "document": document,
        "step": step,
        "key": key,
        "steps": _steps_for(kind),
        "incomplete": service.incomplete_steps(kind, document.draft or {}),
        "answers": service.draft_answers(kind, document.draft or {}).model_dump(),
        "template_text": service.draft_template(document.draft or {}),
        "submitted": submitted or {},
        "errors": errors or {},
        "previous_url": _step_url(kind, previous) if previous else None,
        "next_url": _step_url(kind, following) if following else None,
    }
    if key == service.TEMPLATE_STEP:
        context["rendering"] = service.render_draft(kind, document.draft or {})
    if key == company_course.TEST_STEP:
        rendering = service.render_draft(kind, document.draft or {})
        context["test_text"] = service.draft_test(document.draft or {}) or service.sample_test(
            kind, document.draft or {}
        )
        context["test_attached"] = bool(service.draft_test(document.draft or {}))
        context["test_problems"] = [p for p in rendering.problems if p.startswith("社内テスト")]
    return render(request, "documents/step.html", context, status_code=status_code)


@router.get("/{kind_key}/steps/{step_key}")
async def step_page(request: Request, kind_key: str, step_key: str, db: SessionDep, admin: AdminUser) -> Response:
    kind = service.kind_for(kind_key)
    if service.step_for(kind, step_key) is None and not _is_free_step(kind, step_key):
        raise NotFound("その手順はありません。")
    return await _step_page(request, db, kind, step_key)


async def _form_lists(request: Request) -> dict[str, list[str]]:
    form = await request.form()
    return {name: [value for value in form.getlist(name) if isinstance(value, str)] for name in form}


@router.post("/{kind_key}/steps/{step_key}")
async def save_step(request: Request, kind_key: str, step_key: str, db: SessionDep, admin: AdminUser) -> Response:
    """Save the page's answers into the draft and go on (or back). Invalid fields are shown with their errors
    and nothing of them is saved; the valid ones are. Also answers the HTMX autosave with a status line."""
    kind = service.kind_for(kind_key)
    document = await service.get_document(db, kind=kind)
    form = await _form_lists(request)
    # Only the autosave talks htmx here (on a change of any field); the buttons post the form as a browser does.
    autosave = is_htmx(request)
    if step_key == company_course.TEST_STEP:
        # Going back keeps the test as it was; only the two buttons attach it or take it off.
        if form.get("_test") in (["attach"], ["none"]):
            text = (form.get("test") or [""])[0] if form.get("_test") == ["attach"] else ""
            await service.save_step(db, document=document, values={company_course.TEST_STEP: text}, actor=admin)
        errors: dict[str, str] = {}
    elif step_key == service.TEMPLATE_STEP and kind.key == "manual":
        text = (form.get("template") or [""])[0]
        if form.get("_reset") == ["1"]:
            await service.reset_template(db, document=document, actor=admin)
        else:
            await service.save_step(db, document=document, values={service.TEMPLATE_STEP: text}, actor=admin)
        if autosave:
            return render(
                request,
                "documents/step.html",
                {"kind": kind, "document": document, "rendering": service.render_draft(kind, document.draft)},
                block="template_preview",
            )
        errors = {}
    else:
        step = service.step_for(kind, step_key)
        if step is None:
            raise NotFound("その手順はありません。")
        values, found = parse_step_form(step, form)
        # A required field left empty is the admin's to fill before publishing (the preview lists it), not a
        # reason to lose their place in the wizard; a value that is wrong is refused and shown.
        errors = {name: message for name, message in found.items() if not is_empty(values[name])}
        valid = {name: value for name, value in values.items() if name not in errors}
        await service.save_step(db, document=document, values=valid, actor=admin)
        if autosave:
            return render(
                request, "documents/step.html", {"document": document, "errors": errors}, block="saved_status"
            )
        if errors:
            submitted = {name: value for name, value in values.items()}
            return await _step_page(request, db, kind, step_key, errors=errors, submitted=submitted, status_code=422)
    previous, following = _neighbours(kind, step_key)
    target = previous if form.get("_go") == ["back"] else following
    if form.get("_go") == ["stay"] or target is None:
        target = step_key
    return RedirectResponse(_step_url(kind, target) + ("?saved=1" if target == step_key else ""), status_code=303)


async def _preview_page(
    request: Request, db: SessionDep, kind: service.Kind, document: CompanyDocument, error: AppError | None = None
) -> Response:
    """The last step: the draft as staff will see it, what still stops it, and the publish form (with the
    refusal of a publication that failed)."""
    context = {
        "kind": kind,
        "document": document,
        "key": "preview",
        "steps": _steps_for(kind),
        "incomplete": service.incomplete_steps(kind, document.draft or {}),
        "rendering": service.render_draft(kind, document.draft or {}),
        "checklist": service.draft_checklist(kind, document.draft or {}),
        "current": await service.current_version(db, document=document),
        "departments": await org_service.departments_in_scope(db, scope=EVERYTHING),
        "previous_url": _step_url(kind, _neighbours(kind, "preview")[0] or "preview"),
        "error": error.message if error else None,
    }
    return render(request, "documents/preview.html", context, status_code=error.status_code if error else 200)


@router.get("/{kind_key}/preview")
async def preview(request: Request, kind_key: str, db: SessionDep, admin: AdminUser) -> Response:
    kind = service.kind_for(kind_key)
    return await _preview_page(request, db, kind, await service.get_document(db, kind=kind))


@router.post("/{kind_key}/publish")
async def publish(
    request: Request,
    kind_key: str,
    db: SessionDep,
    admin: AdminUser,
    change: Annotated[str, Form(pattern="^(substantive|correction)$")] = "substantive",
    change_note: Annotated[str, Form(max_length=1000)] = "",
    department_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    kind = service.kind_for(kind_key)
    document = await service.get_document(db, kind=kind)
    try:
        async with db.begin_nested():
            version = await service.publish(
                db,
                kind=kind,
                document=document,
                actor=admin,
                substantive=change == "substantive",
                change_note=change_note,
                department_id=parse_id(department_id) if department_id.strip() else None,
            )
    except AppError as error:
        await db.refresh(document)
        return await _preview_page(request, db, kind, document, error)
    return RedirectResponse(f"/admin/documents/{kind.key}?published={version.number}", status_code=303)


@router.get("/{kind_key}/versions/{number}")
async def version_page(request: Request, kind_key: str, number: int, db: SessionDep, admin: AdminUser) -> Response:
    kind = service.kind_for(kind_key)
    document = await service.get_document(db, kind=kind)
    version = await service.get_version(db, document=document, number=number)
    return render(request, "documents/version.html", {"kind": kind, "document": document, "version": version})


@router.get("/{kind_key}/versions/{number}/pdf")
async def version_pdf(kind_key: str, number: int, db: SessionDep, admin: AdminUser) -> Response:
    kind = service.kind_for(kind_key)
    document = await service.get_document(db, kind=kind)
    version = await service.get_version(db, document=document, number=number)
    data, name, plain = await run_in_threadpool(exports.version_pdf, kind, version)
    return download(data, media_type=PDF, filename=name, ascii_fallback=plain)


@router.get("/{kind_key}/preview/pdf")
async def preview_pdf(kind_key: str, db: SessionDep, admin: AdminUser) -> Response:
    kind = service.kind_for(kind_key)
    document = await service.get_document(db, kind=kind)
    rendering = service.render_draft(kind, document.draft or {})
    data, name, plain = await run_in_threadpool(exports.draft_pdf, kind, rendering)
    return download(data, media_type=PDF, filename=name, ascii_fallback=plain)


@router.get("/{kind_key}/acknowledgments")
async def acknowledgment_list(
    request: Request, kind_key: str, db: SessionDep, admin: AdminUser, pending: bool = False, page: int = 1
) -> Response:
    kind = service.kind_for(kind_key)
    document = await service.get_document(db, kind=kind)
    page = page_number(page)
    report = await acknowledgments.acknowledgment_report(db, document=document, pending_only=pending, page=page)
    listed = report.pending if pending else report.audience
    context = {
        "kind": kind,
        "document": document,
        "report": report,
        "rows": report.rows,
        "pending": pending,
        "page": page,
        "pages": max(1, -(-listed // acknowledgments.PAGE_SIZE)),
        "query": "pending=1" if pending else "",
        "current": await service.current_version(db, document=document),
    }
    return render(request, "documents/acknowledgments.html", context)


@router.post("/{kind_key}/remind")
async def remind(kind_key: str, db: SessionDep, admin: AdminUser, settings: SettingsDep) -> Response:
    kind = service.kind_for(kind_key)
    document = await service.get_document(db, kind=kind)
    sent = await acknowledgments.remind_pending(db, settings=settings, kind=kind, document=document, actor=admin)
    return RedirectResponse(f"/admin/documents/{kind.key}/acknowledgments?pending=1&reminded={sent}", status_code=303)


@router.get("/{kind_key}/acknowledgments.csv")
async def acknowledgments_csv(kind_key: str, db: SessionDep, admin: AdminUser) -> Response:
    kind = service.kind_for(kind_key)
    document = await service.get_document(db, kind=kind)
    report = await acknowledgments.acknowledgment_report(db, document=document)
    data, name, plain = exports.acknowledgments_csv(kind, report)
    return download(data, media_type=CSV, filename=name, ascii_fallback=plain)
