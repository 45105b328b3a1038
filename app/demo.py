"""Demo organisation for `lms demo`: departments, accounts and varied progress, built through the services."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import service as assignment_service
from app.auth import service as auth_service
from app.auth.models import Role, User
from app.certificates import service as certificates_service
from app.certificates.models import Certificate
from app.content import service as content_service
from app.content.models import Course
from app.core.db import utcnow
from app.documents import acknowledgments
from app.documents import service as documents_service
from app.documents.kinds import kind_for
from app.org import service as org_service
from app.org.models import Department
from app.org.scope import EVERYTHING
from app.progress import activity, standing
from app.progress.models import CourseCompletion, CourseStatus
from app.progress.recount import recount_completion_days
from app.quiz import registry
from app.quiz import service as quiz_service

DEMO_PASSWORD = "demo-password"
DEPARTMENTS = [
    "本社",
    "本社/人事部",
    "店舗事業部",
    "店舗事業部/新宿店",
    "店舗事業部/梅田店",
    "お客様センター",
]
EMPLOYEES = [
    ("佐藤 花子", "店舗事業部/新宿店"),
    ("鈴木 一郎", "店舗事業部/新宿店"),
    ("高橋 美咲", "店舗事業部/新宿店"),
    ("田中 健太", "店舗事業部/梅田店"),
    ("伊藤 さくら", "店舗事業部/梅田店"),
    ("渡辺 翔", "店舗事業部/梅田店"),
    ("山本 優子", "お客様センター"),
    ("中村 大輔", "お客様センター"),
    ("小林 愛", "お客様センター"),
    ("加藤 拓海", "お客様センター"),
    ("吉田 真由", "本社/人事部"),
    ("山田 直樹", "本社/人事部"),
    ("佐々木 結衣", "店舗事業部/新宿店"),
    ("山口 蓮", "店舗事業部/梅田店"),
    ("松本 彩", "お客様センター"),
    ("井上 陽介", "店舗事業部/新宿店"),
    ("木村 千尋", "店舗事業部/梅田店"),
    ("林 智也", "本社"),
    ("清水 玲奈", "お客様センター"),
]


@dataclass
class DemoAccount:
    email: str
    name: str
    role: str
    department: str


STAFF_WITHOUT_EMAIL = [
    ("P1001", "店舗 一美", "店舗事業部/新宿店"),
    ("P1002", "売場 健太", "店舗事業部/新宿店"),
    ("P1003", "レジ 由紀", "店舗事業部/梅田店"),
]


async def is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count(User.id)))


async def _take_test(
    session: AsyncSession, *, user: User, course_id: int, quiz: Any, skill: float, rng: random.Random
) -> None:
    attempt = await quiz_service.start_attempt(session, user_id=user.id, course_id=course_id, quiz=quiz)
    definitions = quiz_service.question_definitions(quiz)
    form = {
        entry["id"]: registry.sample_form(definitions[entry["id"]]["def"], correct=rng.random() < skill, rng=rng)
        for entry in attempt.paper
    }
    await quiz_service.submit_attempt(session, attempt=attempt, quiz=quiz, form=form)


async def _simulate(
    session: AsyncSession, *, user: User, slug: str, lessons_done: int, skill: float, rng: random.Random
) -> None:
    course, version = await content_service.get_course(session, slug=slug)
    progress = await standing.progress_for(session, user_id=user.id, course=course, version=version)
    for row in progress.lessons[:lessons_done]:
        await activity.mark_read(
            session, user_id=user.id, course_id=course.id, lesson_slug=row.lesson.slug, version_id=version.id
        )
        await activity.add_reading_time(
            session, user_id=user.id, course_id=course.id, lesson_slug=row.lesson.slug, seconds=60
        )
        if row.quiz is not None:
            for _ in range(3):  # retry like a real learner until passed, at most three times
                await _take_test(session, user=user, course_id=course.id, quiz=row.quiz, skill=skill, rng=rng)
                summaries = await quiz_service.summaries(session, user_id=user.id, course_id=course.id)
                if summaries.get(row.lesson.slug) and summaries[row.lesson.slug].passed:
                    break
                skill = min(1.0, skill + 0.15)
    if lessons_done >= len(progress.lessons) and progress.final_quiz is not None:
        await _take_test(session, user=user, course_id=course.id, quiz=progress.final_quiz, skill=1.0, rng=rng)
    await standing.refresh(session, user_id=user.id, course=course, version=version)


# Days from today to each top-level department's deadline for the basic course: the stores are already late.
DUE_IN_DAYS = {"本社": 30, "店舗事業部": -3, "お客様センター": 14}


async def _backdate_completions(session: AsyncSession, rng: random.Random) -> None:
    """Spread demo completions over the last three weeks, so the dashboard's timeline has a shape."""
    completions = (
        await session.execute(select(CourseCompletion.id, CourseCompletion.user_id, CourseCompletion.course_id))
    ).all()
    valid_months = dict((await session.execute(select(Course.id, Course.valid_months))).all())
    for index, (completion_id, user_id, course_id) in enumerate(sorted(completions)):
        # Each completion in its own week (cycling through three), jittered inside its first six days: even two
        # completions land on different days. How many there are depends on the drawn papers, so a purely random
        # day could put them all on one.
        when = utcnow() - timedelta(days=(7 * index + rng.randint(0, 5)) % 21, hours=rng.randint(0, 8))
        await session.execute(
            update(CourseCompletion).where(CourseCompletion.id == completion_id).values(completed_at=when)
        )
        await session.execute(
            update(CourseStatus)
            .where(CourseStatus.user_id == user_id, CourseStatus.course_id == course_id)
            .values(completed_at=when)
        )
        # The certificate says what the completion says.
        expires = certificates_service.expiry_for(when, valid_months.get(course_id))
        await session.execute(
            update(Certificate)
            .where(Certificate.user_id == user_id, Certificate.course_id == course_id)
            .values(completed_at=when, issued_at=when, expires_at=expires)
        )
    for course_id in {course_id for _id, _user, course_id in completions}:
        await recount_completion_days(session, course_id=course_id)


async def create_demo(session: AsyncSession, *, seed: int = 7) -> list[DemoAccount]:
    """Create the demo organisation; the caller commits. Courses must be imported first."""
    rng = random.Random(seed)
    courses = await content_service.list_courses(session)
    departments: dict[str, Department] = {}
    for path in DEPARTMENTS:
        departments[path] = await org_service.ensure_path(session, path=path)
    for course, _version in courses:
        if course.slug == "kasuhara-basics":
            course.valid_months = 12  # yearly refresher: certificates show an expiry date
        for top, days in DUE_IN_DAYS.items():
            due = utcnow() + timedelta(days=days if course.slug == "kasuhara-basics" else days + 60)
            await assignment_service.assign(
                session,
                course_id=course.id,
                scope=EVERYTHING,
                created_by=None,
                due_at=due,
                department_id=departments[top].id,
            )

    accounts: list[DemoAccount] = []

    async def add(email: str, name: str, role: Role, department: str) -> User:
        user = await auth_service.create_user(
            session,
            email=email,
            password=DEMO_PASSWORD,
            display_name=name,
            role=role,
            department_id=departments[department].id,
        )
        await assignment_service.sync_user(session, user_id=user.id)
        accounts.append(DemoAccount(email, name, role.value, department))
        return user

    admin = await add("admin@example.com", "管理 太郎", Role.ADMIN, "本社/人事部")
    manager = await add("manager@example.com", "店長 次郎", Role.MANAGER, "店舗事業部")
    await org_service.manage(session, user=manager, department=departments["店舗事業部"])
    manager2 = await add("manager2@example.com", "センター長 三恵", Role.MANAGER, "お客様センター")
    await org_service.manage(session, user=manager2, department=departments["お客様センター"])
    learner = await add("learner@example.com", "受講 花子", Role.LEARNER, "店舗事業部/新宿店")
    basics = next((course.slug for course, _ in courses if course.slug == "kasuhara-basics"), None)
    if basics:
        await _simulate(session, user=learner, slug=basics, lessons_done=1, skill=1.0, rng=rng)
    for index, (name, department) in enumerate(EMPLOYEES, start=1):
        user = await add(f"employee{index:02d}@example.com", name, Role.LEARNER, department)
        if not basics:
            continue
        lessons_done = rng.choice([0, 0, 1, 2, 3, 4, 4, 4])
        await _simulate(
            session, user=user, slug=basics, lessons_done=lessons_done, skill=rng.uniform(0.55, 0.95), rng=rng
        )
    # Part-time store staff without a company e-mail: they sign in with their 社員番号 once they have set a
    # password through a printed slip (ユーザー管理 → パスワード設定票を印刷).
    for number, name, department in STAFF_WITHOUT_EMAIL:
        user = await auth_service.create_user(
            session,
            email=None,
            password=None,
            display_name=name,
            employee_number=number,
            department_id=departments[department].id,
        )
        await assignment_service.sync_user(session, user_id=user.id)
    await _backdate_completions(session, rng)
    # learner@example.com is left to try it: the first six simulated employees have confirmed it
    await _publish_policy(session, admin=admin, readers=(await _employees(session))[:6])
    return accounts


async def _employees(session: AsyncSession) -> list[User]:
    """The simulated employees (employeeNN@example.com), in the order they were created."""
    found = select(User).where(User.email.like("employee%@example.com")).order_by(User.id)
    return list(await session.scalars(found))


async def _publish_policy(session: AsyncSession, *, admin: User, readers: list[User]) -> None:
    """The 基本方針, published as 必読の文書 from the wizard's model sentences, so read-and-sign can be tried at
    once: staff find it on マイ研修, and the manager sees who has confirmed it."""
    kind = kind_for("policy")
    document = await documents_service.get_document(session, kind=kind)
    answers = documents_service.draft_answers(kind, {}).model_dump()
    answers.update(company_name="株式会社デモ商事", issuer="代表取締役社長 山田 太郎", effective_date="2026年12月1日")
    await documents_service.save_step(session, document=document, values=answers, actor=admin)
    version = await documents_service.publish(
        session, kind=kind, document=document, actor=admin, substantive=True, change_note="初版", department_id=None
    )
    for reader in readers:
        await acknowledgments.acknowledge(session, kind=kind, user=reader, version_number=version.number)
