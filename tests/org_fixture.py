"""A small organisation whose figures are worked out by hand in the tests.

本社 ─┬─ 営業部 ── 第一課        manager_a manages 営業部, manager_b manages 店舗部
      └─ 店舗部
e1 営業部: nothing yet            e2 第一課: completed the course
e3 第一課: opened, failed a test  e4 店舗部: read lesson 1, failed a test (direct assignment: due in 10 days)
e5 店舗部: nothing yet
The course is assigned to 本社 with a due date yesterday.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import service as assignment_service
from app.auth.models import Role, User
from app.authoring import drafts
from app.content import service as content_service
from app.content.models import Course
from app.content.pack import load_pack
from app.core.db import utcnow
from app.org import service as org_service
from app.org.models import Department
from app.org.scope import EVERYTHING
from app.progress import activity, standing
from app.quiz import service as quiz_service
from app.quiz.registry import sample_form
from tests.conftest import MINI_COURSE, make_user, run_jobs


@dataclass
class Org:
    course: Course
    departments: dict[str, Department]
    users: dict[str, User]


def pack_without_final_test(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(MINI_COURSE, target)
    course_file = target / "course.yaml"
    text = course_file.read_text(encoding="utf-8")
    start = text.index("final_test:")
    end = text.index("misconceptions:")
    course_file.write_text(text[:start] + text[end:], encoding="utf-8")
    return target


async def take_test(db: AsyncSession, user: User, course: Course, lesson_slug: str, *, answers: dict | None) -> None:
    """Submit the lesson's test: `answers` maps question id → form values; None answers everything rightly."""
    _course, version = await content_service.get_course(db, slug=course.slug)
    quiz = (await quiz_service.quizzes_of_version(db, version_id=version.id))[lesson_slug]
    attempt = await quiz_service.start_attempt(db, user_id=user.id, course_id=course.id, quiz=quiz)
    definitions = quiz_service.question_definitions(quiz)
    import random

    form = (
        answers
        if answers is not None
        else {
            entry["id"]: sample_form(definitions[entry["id"]]["def"], correct=True, rng=random.Random(1))
            for entry in attempt.paper
        }
    )
    await quiz_service.submit_attempt(db, attempt=attempt, quiz=quiz, form=form)
    await standing.refresh(db, user_id=user.id, course=course, version=version)


async def read(db: AsyncSession, user: User, course: Course, lesson_slug: str) -> None:
    _course, version = await content_service.get_course(db, slug=course.slug)
    await activity.open_lesson(db, user_id=user.id, course_id=course.id, lesson_slug=lesson_slug)
    await activity.mark_read(db, user_id=user.id, course_id=course.id, lesson_slug=lesson_slug, version_id=version.id)
    await standing.refresh(db, user_id=user.id, course=course, version=version)


@pytest.fixture
async def org(app, db: AsyncSession, tmp_path: Path) -> Org:
    version = await drafts.import_pack(db, pack=load_pack(pack_without_final_test(tmp_path)))
    course = await db.get(Course, version.course_id)
    departments = {
        "本社": await org_service.ensure_path(db, path="本社"),
        "営業部": await org_service.ensure_path(db, path="本社/営業部"),
        "第一課": await org_service.ensure_path(db, path="本社/営業部/第一課"),
        "店舗部": await org_service.ensure_path(db, path="本社/店舗部"),
    }
    users: dict[str, User] = {
        "admin": await make_user(db, "admin@example.com", Role.ADMIN, "管理者"),
        "manager_a": await make_user(db, "manager.a@example.com", Role.MANAGER, "営業部長"),
        "manager_b": await make_user(db, "manager.b@example.com", Role.MANAGER, "店舗部長"),
    }
    await org_service.manage(db, user=users["manager_a"], department=departments["営業部"])
    await org_service.manage(db, user=users["manager_b"], department=departments["店舗部"])
    for key, place in [("e1", "営業部"), ("e2", "第一課"), ("e3", "第一課"), ("e4", "店舗部"), ("e5", "店舗部")]:
        user = await make_user(db, f"{key}@example.com", name=f"社員{key[1]}")
        user.department_id = departments[place].id
        users[key] = user
    await db.flush()
    await assignment_service.assign(
        db,
        course_id=course.id,
        scope=EVERYTHING,
        created_by=users["admin"],
        due_at=utcnow() - timedelta(days=1),
        department_id=departments["本社"].id,
    )
    await assignment_service.assign(
        db,
        course_id=course.id,
        scope=EVERYTHING,
        created_by=users["admin"],
        due_at=utcnow() + timedelta(days=10),
        user_id=users["e4"].id,
    )

    for slug in ("basics", "responses"):
        await read(db, users["e2"], course, slug)
        await take_test(db, users["e2"], course, slug, answers=None)
    _course, version = await content_service.get_course(db, slug=course.slug)
    await activity.open_lesson(db, user_id=users["e3"].id, course_id=course.id, lesson_slug="basics")
    await take_test(db, users["e3"], course, "basics", answers={"b-single": {"answer": ["b"]}})
    await read(db, users["e4"], course, "basics")
    await take_test(db, users["e4"], course, "basics", answers={"b-single": {"answer": ["b"]}})
    await db.commit()
    await run_jobs(app)  # what publishing enqueued: tests start from a quiet queue
    return Org(course=course, departments=departments, users=users)
