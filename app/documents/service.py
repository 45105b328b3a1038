"""The company's policy and manual: drafts written step by step, and versions published as required reading
(acknowledgments are in acknowledgments.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.auth.models import User
from app.content import markdown
from app.core.db import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.documents import builder, company_course, coverage, manual, rules
from app.documents.guideline import Checklist
from app.documents.kinds import KINDS, TEMPLATE_STEP, TEMPLATE_TITLE, Kind, kind_for, step_for
from app.documents.models import CompanyDocument, DocumentVersion
from app.documents.wizard import Step, document_body
from app.org.models import Department


async def get_document(session: AsyncSession, *, kind: Kind) -> CompanyDocument:
    """The company's document of this kind, created empty the first time anyone opens it."""
    document = await session.scalar(select(CompanyDocument).where(CompanyDocument.kind == kind.key))
    if document is not None:
        return document
    try:
        async with session.begin_nested():
            document = CompanyDocument(kind=kind.key, draft={})
            session.add(document)
    except IntegrityError:  # another request created it at the same moment
        document = await session.scalar(select(CompanyDocument).where(CompanyDocument.kind == kind.key))
    assert document is not None
    return document


def _defaults(kind: Kind) -> BaseModel:
    return builder.default_policy_answers() if kind.key == "policy" else manual.default_manual_answers()


def draft_answers(kind: Kind, draft: dict[str, Any]) -> BaseModel:
    """The draft's answers over the defaults; a value that no longer validates falls back to its default."""
    defaults = _defaults(kind).model_dump()
    values = {**defaults, **{name: value for name, value in draft.items() if name in defaults}}
    try:
        return kind.answers_model.model_validate(values)
    except ValidationError as invalid:
        broken = {str(error["loc"][0]) for error in invalid.errors() if error["loc"]}
        return kind.answers_model.model_validate({**values, **{name: defaults[name] for name in broken}})


def draft_template(draft: dict[str, Any]) -> str:
    """The manual's full text as the admin edited it, or the shipped template."""
    template = draft.get(TEMPLATE_STEP)
    return template if isinstance(template, str) and template.strip() else manual.MANUAL_TEMPLATE


@dataclass(frozen=True)
class Rendering:
    title: str
    markdown: str
    html: str
    problems: list[str]


def render_draft(kind: Kind, draft: dict[str, Any]) -> Rendering:
    """The document the draft would publish, and what still stops it from being published."""
    answers = draft_answers(kind, draft)
    problems = [f"「{step.title}」の「{field.label}」を入力してください。" for step, field in _missing(kind, answers)]
    if kind.key == "policy":
        title, text = builder.policy_title(answers), builder.policy_markdown(answers)  # type: ignore[arg-type]
    else:
        template = draft_template(draft)
        template_problems = manual.template_errors(template)
        problems += template_problems
        title = manual.manual_title(answers)  # type: ignore[arg-type]
        text = "" if template_problems else manual.manual_markdown(answers, template)  # type: ignore[arg-type]
    test_yaml = draft_test(draft)
    if text and test_yaml:
        problems += company_course.test_problems(kind=kind.key, title=title, markdown=text, test_yaml=test_yaml)
    return Rendering(title, text, markdown.render(document_body(text)).html if text else "", problems)


def draft_checklist(kind: Kind, draft: dict[str, Any]) -> Checklist:
    """The national guideline's measures, and which of them the draft covers (see guideline.py, coverage.py)."""
    answers = draft_answers(kind, draft)
    if kind.key == "policy":
        return coverage.policy_checklist(answers)  # type: ignore[arg-type]
    return coverage.manual_checklist(answers, draft_template(draft))  # type: ignore[arg-type]


def draft_test(draft: dict[str, Any]) -> str:
    """The company test attached to the draft ("" when none)."""
    test = draft.get(company_course.TEST_STEP)
    return test if isinstance(test, str) else ""


def sample_test(kind: Kind, draft: dict[str, Any]) -> str:
    """A starting company test made from the draft's answers."""
    answers = draft_answers(kind, draft).model_dump()
    return company_course.sample_test_yaml(
        first_contact=answers.get("escalation_first", ""), desk_name=answers.get("desk_name", "")
    )


def _missing(kind: Kind, answers: BaseModel) -> list[tuple[Step, Any]]:
    if kind.key == "policy":
        return builder.missing_required(answers)  # type: ignore[arg-type]
    return manual.missing_required(answers)  # type: ignore[arg-type]


async def save_step(
    session: AsyncSession, *, document: CompanyDocument, values: dict[str, Any], actor: User
) -> CompanyDocument:
    """Merge one step's answers into the draft and stamp it; the rest of the draft is kept as it was."""
    # Locked while merging: two tabs (or two admins) saving different steps must not undo each other's step.
    await session.refresh(document, with_for_update=True)
    document.draft = {**(document.draft or {}), **values}
    document.draft_saved_at = utcnow()
    document.draft_saved_by_id = actor.id
    await session.flush()
    return document


async def reset_template(session: AsyncSession, *, document: CompanyDocument, actor: User) -> None:
    """Put the shipped manual template back in the draft."""
    draft = dict(document.draft or {})
    draft.pop(TEMPLATE_STEP, None)
    document.draft = draft
    document.draft_saved_at = utcnow()
    document.draft_saved_by_id = actor.id
    await session.flush()


async def list_versions(session: AsyncSession, *, document: CompanyDocument) -> list[DocumentVersion]:
    """The document's published versions, newest first."""
    result = await session.scalars(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document.id)
        .order_by(DocumentVersion.number.desc())
    )
    return list(result)


async def get_version(session: AsyncSession, *, document: CompanyDocument, number: int) -> DocumentVersion:
    """Version `number` of the document, or NotFound."""
    version = await session.scalar(
        select(DocumentVersion).where(DocumentVersion.document_id == document.id, DocumentVersion.number == number)
    )
    if version is None:
        raise NotFound("その版はありません。")
    return version


async def current_version(session: AsyncSession, *, document: CompanyDocument) -> DocumentVersion | None:
    """The version staff must read now (None before the first publication)."""
    if document.current_version_id is None:
        return None
    return await session.get(DocumentVersion, document.current_version_id)


async def publish(
    session: AsyncSession,
    *,
    kind: Kind,
    document: CompanyDocument,
    actor: User,
    substantive: bool,
    change_note: str,
    department_id: int | None,
) -> DocumentVersion:
    """Publish the draft as the next version: everyone in the audience must read it, and acknowledge it again
    unless the change is marked as a correction."""
    # Locked: two admins publishing at once get versions n and n+1 one after the other, not a duplicate number.
    await session.refresh(document, with_for_update=True)
    rendering = render_draft(kind, document.draft or {})
    if rendering.problems:
        raise InvalidInput("公開できません。" + " ".join(rendering.problems))
    if department_id is not None and await session.get(Department, department_id) is None:
        raise InvalidInput("対象の部署が見つかりません。")
    versions = await list_versions(session, document=document)
    latest = versions[0] if versions else None
    if (
        latest is not None
        and _is_published_as(latest, rendering.markdown, draft_test(document.draft or {}))
        and document.department_id == department_id
    ):
        raise Conflict("公開中の版から変更がありません。")
    asks = rules.must_ask_again(first_version=latest is None, substantive=substantive)
    version = DocumentVersion(
        document_id=document.id,
        number=(latest.number if latest else 0) + 1,
        title=rendering.title,
        markdown=rendering.markdown,
        html=rendering.html,
        answers={
            **draft_answers(kind, document.draft or {}).model_dump(),
            **({TEMPLATE_STEP: draft_template(document.draft or {})} if kind.key == "manual" else {}),
            company_course.TEST_STEP: draft_test(document.draft or {}),
        },
        requires_ack=asks,
        change_note=change_note.strip(),
        published_at=utcnow(),
        published_by_id=actor.id,
    )
    session.add(version)
    await session.flush()
    document.current_version_id = version.id
    document.department_id = department_id
    test_yaml = draft_test(document.draft or {})
    if test_yaml:
        await company_course.publish_test(session, document=document, version=version, test_yaml=test_yaml, actor=actor)
    await audit.record(
        session,
        actor=actor,
        action="document.publish",
        target_type="document",
        target_id=document.id,
        summary=f"{kind.label} 第{version.number}版を公開" + ("(再確認を依頼)" if asks else "(再確認なし)"),
        details={"kind": kind.key, "number": version.number, "requires_ack": asks, "department_id": department_id},
    )
    return version


__all__ = ["KINDS", "TEMPLATE_STEP", "TEMPLATE_TITLE", "Kind", "kind_for", "step_for"]


def incomplete_steps(kind: Kind, draft: dict[str, Any]) -> set[str]:
    """Steps that still have a required field left empty (the wizard marks them)."""
    return {step.key for step, _field in _missing(kind, draft_answers(kind, draft))}


def has_unpublished_changes(kind: Kind, document: CompanyDocument, current: DocumentVersion | None) -> bool:
    """Whether publishing the draft now would change what staff read (the text or the company test)."""
    if current is None:
        return bool(document.draft)
    return not _is_published_as(
        current, render_draft(kind, document.draft or {}).markdown, draft_test(document.draft or {})
    )


def _is_published_as(version: DocumentVersion, markdown: str, test_yaml: str) -> bool:
    """Whether the version already says this text, with this company test."""
    return version.markdown == markdown and version.answers.get(company_course.TEST_STEP, "") == test_yaml
