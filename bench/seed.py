"""Benchmark data, kept out of the product: a realistic large organisation for dashboard benchmarks, and learners
already signed in for load tests. Refused when LMS_ENV=production.

    python -m bench.seed organisation --employees 100000
    python -m bench.seed learners --count 5000 --out var/bench/cookies.json

The organisation: N employees in ~610 departments (10 divisions × 10 departments × 5 sections), managers for every
division and department, the basic course assigned per division, and for each employee a plausible history: lessons
opened and read, attempts with graded answers and the misconceptions they reflect. Rows are written in batches with
executemany, and the dashboard's counters through their own API (a Tally, as grading writes them), so there is one
implementation of them; every employee shares one password hash so seeding does not spend hours in argon2.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from app.assignments import service as assignment_service
from app.assignments.models import Assignment
from app.auth import service as auth_service
from app.auth.deps import SESSION_COOKIE, cookie_serializer
from app.auth.identifiers import token_hash
from app.auth.models import Role, User, UserSession
from app.cli import run_in_session
from app.content import service as content_service
from app.content.models import Course, CourseVersion
from app.core.config import Environment, get_settings
from app.core.db import utcnow
from app.counters.service import Tally
from app.lessons import service as lessons_service
from app.org.models import Department, ManagedDepartment
from app.progress.models import CourseCompletion, CourseStatus, LessonProgress
from app.progress.recount import recount_roster
from app.quiz import scoring
from app.quiz import service as quiz_service
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
    for table in tables:
        await session.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))")
        )


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
        department_rows.append(
            {"id": division_id, "name": f"第{d + 1}事業本部", "parent_id": None, "path": f"/{division_id}/"}
        )
        for p in range(10):
            dept_id, next_id = next_id, next_id + 1
            departments.append(dept_id)
            department_rows.append(
                {
                    "id": dept_id,
                    "name": f"第{d + 1}-{p + 1}部",
                    "parent_id": division_id,
                    "path": f"/{division_id}/{dept_id}/",
                }
            )
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
        manager_rows.append(
            {
                "id": user_id,
                "email": email,
                "display_name": f"管理職 {index}",
                "password_hash": password_hash,
                "role": Role.MANAGER.value,
                "is_active": True,
                "department_id": None,
                "created_at": now,
            }
        )
        managed_rows.append({"user_id": user_id, "department_id": department_id})
        if index == 0:
            report.division_manager = email
        if index == len(divisions):
            report.department_manager = email
        user_id += 1
    await _insert(session, User.__table__, manager_rows, report)
    await _insert(session, ManagedDepartment.__table__, managed_rows, report)

    first_employee = user_id
    await _insert(
        session,
        User.__table__,
        (
            {
                "id": first_employee + i,
                "email": f"bench-{tag}-{i}@example.com",
                "display_name": f"社員 {i:06d}",
                "password_hash": password_hash,
                "role": Role.LEARNER.value,
                "is_active": True,
                "department_id": sections[i % len(sections)],
                "created_at": now,
            }
            for i in range(employees)
        ),
        report,
    )

    for index, division_id in enumerate(divisions):
        session.add(Assignment(course_id=course.id, department_id=division_id, due_at=now + timedelta(days=index - 5)))
    await session.flush()
    await assignment_service.sync_roster(session, course_id=course.id)

    await _resync_sequences(session, ["departments", "users"])
    department_of = {first_employee + i: sections[i % len(sections)] for i in range(employees)}
    await _history(
        session, rng=rng, report=report, course=course, version=version, department_of=department_of, now=now
    )
    return report


async def _history(
    session: AsyncSession,
    *,
    rng: random.Random,
    report: SeedReport,
    course: Course,
    version: CourseVersion,
    department_of: dict[int, int],
    now: datetime,
) -> None:
    lessons = [
        lesson
        for lesson in await lessons_service.list_lessons(session, version_id=version.id)
        if not lesson.is_appendix
    ]
    quizzes = await quiz_service.quizzes_of_version(session, version_id=version.id)
    parsed = {
        slug: {r["def"]["id"]: (r["def"], scoring.parse_question(r["def"])) for r in quiz.questions}
        for slug, quiz in quizzes.items()
    }
    attempt_id = await _next_id(session, Attempt.id)
    answer_id = await _next_id(session, AttemptAnswer.id)
    progress_rows, status_rows, completion_rows, attempt_rows, answer_rows = [], [], [], [], []
    # The counters grading keeps, added up through their own API (app.counters.service.Tally) and written once.
    tally = Tally(course.id)

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
            progress_rows.append(
                {
                    "user_id": user_id,
                    "course_id": course.id,
                    "lesson_slug": lesson.slug,
                    "first_opened_at": started,
                    "last_opened_at": started,
                    "read_at": started,
                    "read_version_id": version.id,
                    "seconds_spent": rng.randint(300, 1500),
                }
            )
            tally.lesson_event(department_id, lesson.slug, "opened")
            tally.lesson_event(department_id, lesson.slug, "read")
            quiz = quizzes.get(lesson.slug)
            if quiz is None:
                continue
            for number in range(1, 4):
                seed = rng.randrange(2**31)
                paper = paper_for(quiz, seed=seed)
                results, graded = [], []
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
                    graded.append((entry["id"], answer, result.is_correct, result.misconceptions))
                    answer_id += 1
                tally.graded(department_id, graded)
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
                    tally.lesson_event(department_id, lesson.slug, "passed")
                    tests_passed += 1
                    scores.append(total.percent)
                    break
        completed = reached == len(lessons) and tests_passed == len(lessons)
        completed_at = now - timedelta(days=rng.randint(0, 29), hours=rng.randint(0, 10)) if completed else None
        if completed:
            tally.completion(department_id, completed_at)
            completion_rows.append(
                {"user_id": user_id, "course_id": course.id, "version_id": version.id, "completed_at": completed_at}
            )
        if reached or attempts_count:
            steps = 2 * len(lessons) + (1 if None in quizzes else 0)
            status_rows.append(
                {
                    "user_id": user_id,
                    "course_id": course.id,
                    "percent": 100 if completed else round(100 * (reached + tests_passed) / steps),
                    "lessons_read": reached,
                    "tests_passed": tests_passed,
                    "best_score": round(sum(scores) / len(scores), 1) if scores else None,
                    "attempts": attempts_count,
                    "started_at": started,
                    "last_activity_at": started,
                    "completed_at": completed_at,
                }
            )
        await flush_batches()
    await flush_batches(force=True)
    await tally.write(session)
    report.rows.update(
        question_stats=len(tally.answered),
        wrong_answer_stats=len(tally.wrong),
        misconception_stats=len(tally.misconceptions),
        lesson_stats=len({(department, slug) for department, slug, _event in tally.lessons}),
        completion_day_stats=len(tally.completion_days),
    )
    await recount_roster(session, course_id=course.id)
    await _resync_sequences(session, ["attempts", "attempt_answers"])
    # Fresh statistics, or the planners keep guessing from an empty database (SQLite then sorts 100,000 rows
    # for a 50-row page instead of walking the name index).
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
    await _insert(
        session,
        User.__table__,
        (
            {
                "id": first_id + i,
                "email": f"load-{tag}-{i}@example.com",
                "display_name": f"負荷 {i:05d}",
                "password_hash": password_hash,
                "role": Role.LEARNER.value,
                "is_active": True,
                "department_id": department.id,
                "created_at": now,
            }
            for i in range(count)
        ),
        report,
    )
    admin_id = first_id + count
    await _insert(
        session,
        User.__table__,
        [
            {
                "id": admin_id,
                "email": f"load-admin-{tag}@example.com",
                "display_name": "負荷 管理者",
                "password_hash": password_hash,
                "role": Role.ADMIN.value,
                "is_active": True,
                "department_id": None,
                "created_at": now,
            }
        ],
        report,
    )
    await _resync_sequences(session, ["users"])
    session.add(Assignment(course_id=course.id, department_id=department.id, due_at=now + timedelta(days=7)))
    await session.flush()
    await assignment_service.sync_roster(session, course_id=course.id)
    tokens = [secrets.token_urlsafe(32) for _ in range(count + 1)]  # the last one is the admin's
    await _insert(
        session,
        UserSession.__table__,
        (
            {"token_hash": token_hash(token), "user_id": first_id + i, "created_at": now, "last_seen_at": now}
            for i, token in enumerate(tokens)
        ),
        report,
    )
    quizzes = await session.scalars(select(Quiz).where(Quiz.version_id == version.id))
    return LoadLearners(
        cookies=[cookie_for(token) for token in tokens[:-1]],
        admin_cookie=cookie_for(tokens[-1]),
        quiz_ids={quiz.lesson_slug or "final": quiz.id for quiz in quizzes},
    )


@dataclass
class Overdue:
    admin_id: int
    user_ids: list[int]
    emails: list[str]


async def seed_overdue(session: AsyncSession, *, count: int, course_slug: str = "kasuhara-basics") -> Overdue:
    """`count` employees with a company e-mail in one department, all overdue on the course (due yesterday), and an
    admin to remind them: the 督促 benchmark's and the job tests' organisation."""
    course, _version = await content_service.get_course(session, slug=course_slug)
    department = Department(name="督促試験部", parent_id=None, path="")
    session.add(department)
    await session.flush()
    department.path = f"/{department.id}/"
    now = utcnow()
    tag = f"{department.id}"
    first_id = await _next_id(session, User.id)
    report = SeedReport(employees=count)
    emails = [f"late-{tag}-{i}@example.com" for i in range(count)]
    rows = [
        {
            "id": first_id + i,
            "email": email,
            "display_name": f"期限 {i:05d}",
            "password_hash": None,
            "role": Role.LEARNER.value,
            "is_active": True,
            "department_id": department.id,
            "created_at": now,
        }
        for i, email in enumerate(emails)
    ]
    admin_id = first_id + count
    rows.append(
        {
            "id": admin_id,
            "email": f"late-admin-{tag}@example.com",
            "display_name": "督促 管理者",
            "password_hash": None,
            "role": Role.ADMIN.value,
            "is_active": True,
            "department_id": None,
            "created_at": now,
        }
    )
    await _insert(session, User.__table__, rows, report)
    await _resync_sequences(session, ["users"])
    session.add(Assignment(course_id=course.id, department_id=department.id, due_at=now - timedelta(days=1)))
    await session.flush()
    await assignment_service.sync_roster(session, course_id=course.id)
    return Overdue(admin_id=admin_id, user_ids=[first_id + i for i in range(count)], emails=emails)


# --- command line ---------------------------------------------------------------------------------------------

cli = typer.Typer(help="ベンチマーク用のデータ(本番では作成できません)", no_args_is_help=True)
T = TypeVar("T")


def _run(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Refuse a production database, then run the work in one transaction as every `lms` command does."""
    if get_settings().env is Environment.PRODUCTION:
        typer.echo("LMS_ENV=production ではベンチマーク用データを作成できません。", err=True)
        raise typer.Exit(1)
    return run_in_session(work)


@cli.command("organisation")
def organisation(
    employees: Annotated[int, typer.Option(min=1, max=1_000_000)] = 100_000,
    course: str = "kasuhara-basics",
    seed_number: Annotated[int, typer.Option("--seed")] = 1,
) -> None:
    """Add a large organisation (departments, managers, employees with history) for benchmarks."""
    started = time.perf_counter()
    report = _run(lambda session: seed(session, employees=employees, course_slug=course, seed=seed_number))
    typer.echo(
        f"{report.employees:,} 人、{report.departments} 部署を作成しました({time.perf_counter() - started:.0f} 秒)。"
    )
    for table, count in sorted(report.rows.items()):
        typer.echo(f"  {table:<24} {count:>10,}")
    typer.echo(
        f"事業本部の管理職: {report.division_manager} / 部の管理職: {report.department_manager}(パスワード {PASSWORD})"
    )


@cli.command("learners")
def learners(
    out: Annotated[Path, typer.Option(help="JSON file for the cookies and test ids")],
    count: Annotated[int, typer.Option(min=1, max=100_000)] = 1000,
    course: str = "kasuhara-basics",
) -> None:
    """Add learners who are already signed in (for load tests) and write their session cookies to OUT."""
    serializer = cookie_serializer(get_settings())
    seeded = _run(
        lambda session: seed_load_learners(session, count=count, course_slug=course, cookie_for=serializer.dumps)
    )
    found = {
        "cookie_name": SESSION_COOKIE,
        "cookies": seeded.cookies,
        "admin_cookie": seeded.admin_cookie,
        "quizzes": seeded.quiz_ids,
    }
    out.write_text(json.dumps(found))
    typer.echo(f"サインイン済みの受講者 {count:,} 人を作成しました: {out}")


if __name__ == "__main__":
    cli()
