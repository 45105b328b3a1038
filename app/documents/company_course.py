"""A short test on the company's own policy or manual, run by the course engine: publishing the document with
a test builds a small course (the document as its lesson, the admin's questions as its test), publishes it as
the course's next version and assigns it to the document's audience."""

from __future__ import annotations

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import service as assignments_service
from app.auth.models import User
from app.authoring import drafts
from app.authoring.schemas import Source
from app.content.errors import PackInvalid
from app.content.models import Course
from app.content.pack import Pack, load_pack_files
from app.core.db import utcnow
from app.documents.models import CompanyDocument, DocumentVersion
from app.documents.wizard import document_body
from app.enrolments.models import Enrollment
from app.org.models import Department
from app.org.scope import EVERYTHING
from app.progress import standing

TEST_STEP = "test"
COURSE_SLUGS = {"policy": "company-policy", "manual": "company-manual"}
LESSON_SLUG = "document"
QUIZ_FILE = "quizzes/01-document.yaml"


def sample_test_yaml(*, first_contact: str, desk_name: str) -> str:
    """A three-question starting point drawn from the admin's own answers, to edit rather than write from
    nothing."""
    first = first_contact or "現場の責任者"
    desk = desk_name or "社内の相談窓口"
    questions = [
        {
            "id": "first-report",
            "type": "single",
            "prompt": "お客様の言動がカスハラかもしれないと感じたとき、最初に報告する相手は?",
            "explanation": f"一人で抱え込まず、まず{first}に報告します。",
            "choices": [
                {"id": "a", "text": first, "correct": True},
                {"id": "b", "text": "誰にも言わずに自分で最後まで対応する"},
                {"id": "c", "text": "お客様が帰ってから同僚に話す"},
            ],
        },
        {
            "id": "alone",
            "type": "true_false",
            "prompt": "長時間の居座りには、担当者が一人で対応を続けるのが会社の方針である。",
            "answer": False,
            "explanation": "一人で対応させず、複数人や上位者が対応します。",
        },
        {
            "id": "desk",
            "type": "single",
            "prompt": "被害を受けて心身がつらいとき、相談できる窓口は?",
            "explanation": f"{desk}に相談できます。相談したことで不利益に扱われることはありません。",
            "choices": [
                {"id": "a", "text": desk, "correct": True},
                {"id": "b", "text": "相談できる窓口はない"},
                {"id": "c", "text": "お客様本人"},
            ],
        },
    ]
    test = {
        "title": "社内方針の確認テスト",
        "pass_mark": 100,
        "max_attempts": 0,
        "shuffle_questions": False,
        "shuffle_choices": True,
        "questions": questions,
    }
    return yaml.safe_dump(test, allow_unicode=True, sort_keys=False, width=200)


def build_pack(*, kind: str, title: str, markdown: str, test_yaml: str) -> Pack:
    """The course pack for the document and its test; PackInvalid lists what is wrong with the test."""
    minutes = max(1, len(markdown) // 600)
    course = {
        "slug": COURSE_SLUGS[kind],
        "title": f"{title}(社内テスト)"[:200],
        "description": "自社の文書を読み、確認テストに合格すると修了です。",
        "lessons": [{"slug": LESSON_SLUG, "file": "lessons/01-document.md", "quiz": QUIZ_FILE}],
    }
    front = yaml.safe_dump(
        {"title": title[:200], "summary": "自社の文書を読みます。", "minutes": minutes},
        allow_unicode=True,
        sort_keys=False,
    )
    files = {
        "course.yaml": yaml.safe_dump(course, allow_unicode=True, sort_keys=False).encode(),
        "lessons/01-document.md": f"---\n{front}---\n\n{document_body(markdown)}\n".encode(),
        QUIZ_FILE: test_yaml.encode(),
    }
    return load_pack_files(files, name=COURSE_SLUGS[kind])


def test_problems(*, kind: str, title: str, markdown: str, test_yaml: str) -> list[str]:
    """What stops the test from being published, in the admin's words (the file names are ours, not theirs)."""
    if not test_yaml.strip():
        return []
    try:
        build_pack(kind=kind, title=title, markdown=markdown, test_yaml=test_yaml)
    except PackInvalid as invalid:
        return [
            f"社内テスト: {f'{e.line}行目: ' if e.line and e.file == QUIZ_FILE else ''}{e.message}"
            for e in invalid.errors
        ]
    return []


async def publish_test(
    session: AsyncSession, *, document: CompanyDocument, version: DocumentVersion, test_yaml: str, actor: User
) -> Course:
    """Publish the document's test course as its next version and assign it to the document's audience (people
    without a department too, when it is everyone). A version that asks everyone to acknowledge again also asks
    everyone who had passed to read and pass again, as a new training cycle of the course."""
    pack = build_pack(kind=document.kind, title=version.title, markdown=version.markdown, test_yaml=test_yaml)
    course_version = await drafts.import_pack(
        session,
        pack=pack,
        source=Source.DOCUMENTS,
        actor=actor,
        reread_changed=version.requires_ack,
        note=f"文書 第{version.number}版",
    )
    assert course_version is not None  # stored unconditionally (no if_changed)
    course = await session.get(Course, course_version.course_id)
    assert course is not None
    if version.requires_ack and document.course_id == course.id:
        enrolled = list(await session.scalars(select(Enrollment.user_id).where(Enrollment.course_id == course.id)))
        await standing.restart_training(session, course_id=course.id, user_ids=enrolled, since=utcnow())
    document.course_id = course.id
    targets = (
        [document.department_id]
        if document.department_id is not None
        else list(await session.scalars(select(Department.id).where(Department.parent_id.is_(None))))
    )
    assigned = set(await assignments_service.department_ids_assigned(session, course_id=course.id))
    for department_id in targets:
        if department_id not in assigned:
            await assignments_service.assign(
                session,
                course_id=course.id,
                scope=EVERYTHING,
                created_by=actor,
                due_at=None,
                department_id=department_id,
            )
    if document.department_id is None:
        for user_id in await assignments_service.people_without_assignment_route(session, course_id=course.id):
            await assignments_service.assign(
                session, course_id=course.id, scope=EVERYTHING, created_by=actor, due_at=None, user_id=user_id
            )
    await assignments_service.sync_roster(session, course_id=course.id)
    return course
