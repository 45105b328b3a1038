"""`lms bench seed`: a realistic large organisation for dashboard benchmarks.

N employees in ~610 departments (10 divisions × 10 departments × 5 sections), managers for every division
and department, the basic course assigned per division, and for each employee a plausible history: lessons
opened and read, attempts with graded answers and the misconceptions they reflect. Rows are written in
batches with executemany; every employee shares one password hash so seeding does not spend hours in argon2.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import service as assignment_service
from app.assignments.models import Assignment
from app.auth import service as auth_service
from app.auth.identifiers import token_hash
from app.auth.models import Role, User, UserSession
from app.content import service as content_service
from app.core.db import utcnow
from app.core.templating import TIMEZONE
from app.counters.models import CompletionDayStat, LessonStat, MisconceptionStat, QuestionStat, WrongAnswerStat
from app.counters.service import answer_key
from app.org.models import Department, ManagedDepartment
from app.progress.models import CourseCompletion, CourseStatus, LessonProgress
from app.progress.recount import recount_roster
from app.quiz import scoring
from app.quiz.models import Attempt, AttemptAnswer, Quiz, key_for_test
from app.quiz.registry import parse_form, sample_form
from app.quiz.service import paper_for

BATCH = 5000
PASSWORD = "bench-password"


@dataclass
class SeedReport:
    employees: int = 0
    departments: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    division_manager: str = ""
    department_manager: str = ""


async def _insert(session: AsyncSession, table: Table, rows: Iterable[dict[str, Any]], report: SeedReport) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            await session.execute(insert(table), batch)
            report.rows[table.name] = report.rows.get(table.name, 0) + len(batch)
            batch = []
    if batch:
        await session.execute(insert(table), batch)
        report.rows[table.name] = report.rows.get(table.name, 0) + len(batch)


async def _resync_sequences(session: AsyncSession, tables: list[str]) -> None:
    """Rows were written with explicit ids: move PostgreSQL's id sequences past them."""
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    for table in tables:
        await session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
        ))  # fmt: skip


async def _next_id(session: AsyncSession, column: Any) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(column), 0)))) + 1


async def seed(
    session: AsyncSession, *, employees: int, course_slug: str = "kasuhara-basics", seed: int = 1
) -> SeedReport:
    """Add a large organisation to the database; the caller commits."""
    rng = random.Random(seed)
    report = SeedReport(employees=employees)
    course, version = await content_service.get_course(session, slug=course_slug)
    now = utcnow()

    # Departments: ids assigned here so each path is known without a round trip per row.
    department_rows, sections, divisions, departments = [], [], [], []
    next_id = await _next_id(session, Department.id)
    for d in range(10):
        division_id, next_id = next_id, next_id + 1
        divisions.append(division_id)
        department_rows.append({"id": division_id, "name": f"第{d + 1}事業本部", "parent_id": None,
                                "path": f"/{division_id}/"})  # fmt: skip
        for p in range(10):
            dept_id, next_id = next_id, next_id + 1
            departments.append(dept_id)
            department_rows.append({"id": dept_id, "name": f"第{d + 1}-{p + 1}部", "parent_id": division_id,
                                    "path": f"/{division_id}/{dept_id}/"})  # fmt: skip
            for s in range(5):
                section_id, next_id = next_id, next_id + 1
                sections.append(section_id)
                department_rows.append(
                    {
                        "id": section_id,
                        "name": f"第{d + 1}-{p + 1}部 {s + 1}課",
                        "parent_id": dept_id,
                        "path": f"/{division_id}/{dept_id}/{section_id}/",
                    }
                )
    await _insert(session, Department.__table__, department_rows, report)
    report.departments = len(department_rows)

    # Managers: one per division and one per department.
    password_hash = auth_service.password_hash.hash(PASSWORD)
    user_id = await _next_id(session, User.id)
    tag = f"{seed}-{user_id}"
    manager_rows, managed_rows = [], []
    for index, department_id in enumerate(divisions + departments):
        email = f"bench-manager-{tag}-{index}@example.com"
        manager_rows.append({"id": user_id, "email": email, "display_name": f"管理職 {index}", "password_hash":
                             password_hash, "role": Role.MANAGER.value, "is_active": True, "department_id": None,
                             "created_at": now})  # fmt: skip
        managed_rows.append({"user_id": user_id, "department_id": department_id})
        if index == 0:
            report.division_manager = email
        if index == len(divisions):
            report.department_manager = email
        user_id += 1
    await _insert(session, User.__table__, manager_rows, report)
    await _insert(session, ManagedDepartment.__table__, managed_rows, report)

    first_employee = user_id
    await _insert(session, User.__table__, (
        {"id": first_employee + i, "email": f"bench-{tag}-{i}@example.com", "display_name": f"社員 {i:06d}",
         "password_hash": password_hash, "role": Role.LEARNER.value, "is_active": True,
         "department_id": sections[i % len(sections)], "created_at": now}
        for i in range(employees)
    ), report)  # fmt: skip

    for index, division_id in enumerate(divisions):
        session.add(Assignment(course_id=course.id, department_id=division_id, due_at=now + timedelta(days=index - 5)))
    await session.flush()
    await assignment_service.sync_roster(session, course_id=course.id)

    await _resync_sequences(session, ["departments", "users"])
    department_of = {first_employee + i: sections[i % len(sections)] for i in range(employees)}
    await _history(session, rng=rng, report=report, course=course, version=version, department_of=department_of,
                   now=now)  # fmt: skip
    return report


async def _history(session: AsyncSession, *, rng: random.Random, report: SeedReport, course: Any, version: Any,
                   department_of: dict[int, int], now: Any) -> None:  # fmt: skip
    from app.lessons import service as lessons_service
    from app.quiz import service as quiz_service

    lessons = [lesson for lesson in await lessons_service.list_lessons(session, version_id=version.id)
               if not lesson.is_appendix]  # fmt: skip
    quizzes = await quiz_service.quizzes_of_version(session, version_id=version.id)
    parsed = {slug: {r["def"]["id"]: (r["def"], scoring.parse_question(r["def"])) for r in quiz.questions}
              for slug, quiz in quizzes.items()}  # fmt: skip
    attempt_id = await _next_id(session, Attempt.id)
    answer_id = await _next_id(session, AttemptAnswer.id)
    progress_rows, status_rows, completion_rows, attempt_rows, answer_rows = [], [], [], [], []
    # The counters grading keeps (app.dashboard.stats), accumulated here and written once at the end.
    answered: Counter[tuple[int, str]] = Counter()
    correct: Counter[tuple[int, str]] = Counter()
    wrong: Counter[tuple[int, str, str]] = Counter()
    chosen: Counter[tuple[int, str]] = Counter()
    lesson_counts: Counter[tuple[int, str, str]] = Counter()
    completion_days: Counter[tuple[int, Any]] = Counter()

    async def flush_batches(force: bool = False) -> None:
        # Parents before children: attempts before their answers.
        tables = [
            (LessonProgress.__table__, progress_rows),
            (Attempt.__table__, attempt_rows),
            (AttemptAnswer.__table__, answer_rows),
            (CourseStatus.__table__, status_rows),
            (CourseCompletion.__table__, completion_rows),
        ]
        if not force and all(len(rows) < BATCH for _table, rows in tables):
            return
        for table, rows in tables:
            if rows:
                await _insert(session, table, rows, report)
                rows.clear()

    for user_id, department_id in department_of.items():
        reached = rng.choices([0, 1, 2, 3, 4], weights=[25, 8, 8, 9, 50])[0]
        skill = rng.uniform(0.6, 1.0)
        started = now - timedelta(days=rng.randint(5, 40))
        tests_passed, scores, attempts_count = 0, [], 0
        for lesson in lessons[:reached]:
            progress_rows.append({"user_id": user_id, "course_id": course.id, "lesson_slug": lesson.slug,
                                  "first_opened_at": started, "last_opened_at": started, "read_at": started,
                                  "read_version_id": version.id, "seconds_spent": rng.randint(300, 1500)})  # fmt: skip
            lesson_counts[department_id, lesson.slug, "opened"] += 1
            lesson_counts[department_id, lesson.slug, "read"] += 1
            quiz = quizzes.get(lesson.slug)
            if quiz is None:
                continue
            for number in range(1, 4):
                seed = rng.randrange(2**31)
                paper = paper_for(quiz, seed=seed)
                results = []
                for entry in paper:
                    definition, question = parsed[lesson.slug][entry["id"]]
                    answer = parse_form(definition, sample_form(definition, correct=rng.random() < skill, rng=rng))
                    result = scoring.score_question(question, answer, partial_credit=quiz.partial_credit)
                    results.append(result)
                    answer_rows.append(
                        {
                            "id": answer_id,
                            "attempt_id": attempt_id,
                            "question_id": entry["id"],
                            "answer": answer,
                            "answered_at": started,
                            "credit": result.credit,
                            "is_correct": result.is_correct,
                            "misconceptions": result.misconceptions,
                        }
                    )
                    answered[department_id, entry["id"]] += 1
                    correct[department_id, entry["id"]] += int(result.is_correct)
                    if not result.is_correct and answer is not None:
                        wrong[department_id, entry["id"], answer_key(answer)] += 1
                    for key in result.misconceptions:
                        chosen[department_id, key] += 1
                    answer_id += 1
                total = scoring.score_attempt(results, pass_mark=quiz.pass_mark)
                attempt_rows.append(
                    {
                        "id": attempt_id,
                        "user_id": user_id,
                        "quiz_id": quiz.id,
                        "course_id": course.id,
                        "lesson_slug": lesson.slug,
                        "test_key": key_for_test(lesson.slug),
                        "attempt_number": number,
                        "seed": seed,
                        "paper": paper,
                        "started_at": started,
                        "submitted_at": started,
                        "score": total.percent,
                        "passed": total.passed,
                    }
                )
                attempt_id += 1
                attempts_count += 1
                skill = min(1.0, skill + 0.2)
                if total.passed:
                    lesson_counts[department_id, lesson.slug, "passed"] += 1
                    tests_passed += 1
                    scores.append(total.percent)
                    break
        completed = reached == len(lessons) and tests_passed == len(lessons)
        completed_at = now - timedelta(days=rng.randint(0, 29), hours=rng.randint(0, 10)) if completed else None
        if completed:
            completion_days[department_id, completed_at.astimezone(TIMEZONE).date()] += 1
            completion_rows.append({"user_id": user_id, "course_id": course.id, "version_id": version.id,
                                    "completed_at": completed_at})  # fmt: skip
        if reached or attempts_count:
            steps = 2 * len(lessons) + (1 if None in quizzes else 0)
            status_rows.append({"user_id": user_id, "course_id": course.id,
                                "percent": 100 if completed else round(100 * (reached + tests_passed) / steps),
                                "lessons_read": reached, "tests_passed": tests_passed,
                                "best_score": round(sum(scores) / len(scores), 1) if scores else None,
                                "attempts": attempts_count, "started_at": started, "last_activity_at": started,
                                "completed_at": completed_at})  # fmt: skip
        await flush_batches()
    await flush_batches(force=True)
    place = {"course_id": course.id}
    await _insert(session, QuestionStat.__table__, ({**place, "department_id": d, "question_id": q, "answered": n,
                                                      "correct": correct[d, q]} for (d, q), n in answered.items()),
                  report)  # fmt: skip
    await _insert(
        session,
        WrongAnswerStat.__table__,
        ({**place, "department_id": d, "question_id": q, "answer": a, "count": n} for (d, q, a), n in wrong.items()),
        report,
    )
    await _insert(
        session,
        MisconceptionStat.__table__,
        ({**place, "department_id": d, "misconception": k, "count": n} for (d, k), n in chosen.items()),
        report,
    )
    lesson_keys = sorted({(d, slug) for d, slug, _event in lesson_counts})
    await _insert(
        session,
        LessonStat.__table__,
        (
            {**place, "department_id": d, "lesson_slug": slug, "opened": lesson_counts[d, slug, "opened"],
             "read": lesson_counts[d, slug, "read"], "passed": lesson_counts[d, slug, "passed"]}
            for d, slug in lesson_keys
        ),
        report,
    )  # fmt: skip
    await recount_roster(session, course_id=course.id)
    await _insert(
        session,
        CompletionDayStat.__table__,
        ({**place, "department_id": d, "day": day, "count": n} for (d, day), n in completion_days.items()),
        report,
    )
    await _resync_sequences(session, ["attempts", "attempt_answers"])
    # Fresh statistics, or the planners keep guessing from an empty database (SQLite then sorts 100,000 rows
    # for a 50-row page instead of walking the name index).
    from sqlalchemy import text

    await session.execute(text("ANALYZE"))


@dataclass
class LoadLearners:
    cookies: list[str]
    admin_cookie: str
    quiz_ids: dict[str, int]


async def seed_load_learners(
    session: AsyncSession, *, count: int, cookie_for: Any, course_slug: str = "kasuhara-basics"
) -> LoadLearners:
    """Learners already signed in, for load tests: users, their sessions and an assignment of the course.

    Sessions are written directly (no argon2 sign-in per learner), and `cookie_for(token)` turns each session
    token into the cookie value a browser would hold.
    """
    course, version = await content_service.get_course(session, slug=course_slug)
    department = Department(name="負荷試験部", parent_id=None, path="")
    session.add(department)
    await session.flush()
    department.path = f"/{department.id}/"
    now = utcnow()
    password_hash = auth_service.password_hash.hash(PASSWORD)
    tag = f"{department.id}"
    first_id = await _next_id(session, User.id)
    report = SeedReport(employees=count)
    await _insert(session, User.__table__, (
        {"id": first_id + i, "email": f"load-{tag}-{i}@example.com", "display_name": f"負荷 {i:05d}",
         "password_hash": password_hash, "role": Role.LEARNER.value, "is_active": True,
         "department_id": department.id, "created_at": now}
        for i in range(count)
    ), report)  # fmt: skip
    admin_id = first_id + count
    await _insert(session, User.__table__, [
        {"id": admin_id, "email": f"load-admin-{tag}@example.com", "display_name": "負荷 管理者",
         "password_hash": password_hash, "role": Role.ADMIN.value, "is_active": True, "department_id": None,
         "created_at": now}
    ], report)  # fmt: skip
    await _resync_sequences(session, ["users"])
    session.add(Assignment(course_id=course.id, department_id=department.id, due_at=now + timedelta(days=7)))
    await session.flush()
    await assignment_service.sync_roster(session, course_id=course.id)
    tokens = [secrets.token_urlsafe(32) for _ in range(count + 1)]  # the last one is the admin's
    await _insert(session, UserSession.__table__, (
        {"token_hash": token_hash(token), "user_id": first_id + i, "created_at": now, "last_seen_at": now}
        for i, token in enumerate(tokens)
    ), report)  # fmt: skip
    quizzes = await session.scalars(select(Quiz).where(Quiz.version_id == version.id))
    return LoadLearners(
        cookies=[cookie_for(token) for token in tokens[:-1]],
        admin_cookie=cookie_for(tokens[-1]),
        quiz_ids={quiz.lesson_slug or "final": quiz.id for quiz in quizzes},
    )
