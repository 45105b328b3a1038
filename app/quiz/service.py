"""Attempts: starting, saving answers as they are given, submitting once, and reading results."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, cast, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from app.core.db import insert_or_update, insert_or_update_many, utcnow
from app.core.errors import Conflict, NotFound
from app.counters import service as counters
from app.enrolments.cycles import cycle_started_at, in_cycle
from app.enrolments.models import Enrollment
from app.quiz import registry, scoring
from app.quiz.bank import QuestionBank, bank_of
from app.quiz.models import Attempt, AttemptAnswer, Quiz, key_for_test
from app.quiz.paper import draw_paper


@dataclass(frozen=True)
class QuizSummary:
    attempts: int
    best_score: float | None
    passed: bool
    in_progress_id: int | None


async def get_quiz(session: AsyncSession, *, quiz_id: int) -> Quiz:
    quiz = await session.get(Quiz, quiz_id)
    if quiz is None:
        raise NotFound("テストが見つかりません。")
    return quiz


async def quizzes_of_version(session: AsyncSession, *, version_id: int) -> dict[str | None, Quiz]:
    """Quizzes keyed by lesson slug; the course's final test under None."""
    result = await session.scalars(select(Quiz).where(Quiz.version_id == version_id))
    return {quiz.lesson_slug: quiz for quiz in result}


# Statements of the hot paths are built once and executed with new values (docs/performance.md, issue 16, third
# round): building one and its cache key cost more than running it. Statements are immutable, so sharing is safe.
SUMMARIES = (
    select(
        Attempt.lesson_slug,
        func.count(Attempt.submitted_at),
        func.max(Attempt.score),
        func.max(cast(func.coalesce(Attempt.passed, False), Integer)),
        func.max(case((Attempt.submitted_at.is_(None), Attempt.id), else_=None)),
    )
    .outerjoin(Enrollment, and_(Enrollment.user_id == Attempt.user_id, Enrollment.course_id == Attempt.course_id))
    .where(Attempt.user_id == bindparam("user_id"), Attempt.course_id == bindparam("course_id"))
    # Attempts from an earlier training cycle stay on record but no longer count.
    .where(or_(Enrollment.cycle_started_at.is_(None), Attempt.started_at >= Enrollment.cycle_started_at))
    .group_by(Attempt.lesson_slug)
)
STORED_ANSWERS = select(AttemptAnswer.question_id, AttemptAnswer.answer, AttemptAnswer.answered_at).where(
    AttemptAnswer.attempt_id == bindparam("attempt_id")
)
# The claim: only the first submission of an attempt finds it unsubmitted. On the table, not the mapped class, so
# it is one plain UPDATE that reports its row count.
_attempts = Attempt.__table__
CLAIM_ATTEMPT = (
    update(_attempts)
    .where(_attempts.c.id == bindparam("attempt_id"), _attempts.c.submitted_at.is_(None))
    .values(submitted_at=bindparam("now"), score=bindparam("percent"), passed=bindparam("did_pass"))
)
EARLIER_PASSES = select(func.count(Attempt.id)).where(
    Attempt.user_id == bindparam("user_id"),
    Attempt.course_id == bindparam("course_id"),
    Attempt.lesson_slug == bindparam("lesson_slug"),
    Attempt.passed.is_(True),
    Attempt.id != bindparam("attempt_id"),
)


async def summaries(session: AsyncSession, *, user_id: int, course_id: int) -> dict[str | None, QuizSummary]:
    """Per lesson slug (None = final test): submitted attempts, best score and whether passed, across versions."""
    rows = await session.execute(SUMMARIES, {"user_id": user_id, "course_id": course_id})
    return {
        slug: QuizSummary(attempts=count, best_score=best, passed=bool(passed), in_progress_id=open_id)
        for slug, count, best, passed, open_id in rows
    }


ANY_TEST = "*"


async def list_attempts(
    session: AsyncSession, *, user_id: int, course_id: int, lesson_slug: str | None = ANY_TEST
) -> list[Attempt]:
    """A learner's attempts in a course, newest first: at one lesson's test, the final test (None), or any."""
    statement = select(Attempt).where(Attempt.user_id == user_id, Attempt.course_id == course_id)
    if lesson_slug != ANY_TEST:
        statement = statement.where(Attempt.test_key == key_for_test(lesson_slug))
    result = await session.scalars(statement.order_by(Attempt.id.desc()))
    return list(result)


def paper_for(quiz: Quiz, *, seed: int) -> list[dict[str, Any]]:
    """The questions (and choice orders) an attempt with this seed shows, following the quiz's settings."""
    return draw_paper(
        [record["def"] for record in quiz.questions],
        seed=seed,
        draw=quiz.draw,
        shuffle_questions=quiz.shuffle_questions,
        shuffle_choices=quiz.shuffle_choices,
    )


async def start_attempt(session: AsyncSession, *, user_id: int, course_id: int, quiz: Quiz) -> Attempt:
    """Resume the learner's unfinished attempt at this test, or start a new one while attempts remain.

    Attempts are numbered under a unique constraint: when requests race to start one (a double click, two tabs,
    two workers), exactly one inserts the next number; the others fail on it, look again and resume that one.
    """
    for _try in range(2):
        attempt = await _resume_or_insert(session, user_id=user_id, course_id=course_id, quiz=quiz)
        if attempt is not None:
            return attempt
    raise Conflict("同時に別の受験が始まりました。テストのページを開き直してください。")


async def _resume_or_insert(session: AsyncSession, *, user_id: int, course_id: int, quiz: Quiz) -> Attempt | None:
    """The unfinished attempt, or a new one with the next number; None when another request took that number."""
    attempts = await list_attempts(session, user_id=user_id, course_id=course_id, lesson_slug=quiz.lesson_slug)
    cycle_start = await cycle_started_at(session, user_id=user_id, course_id=course_id)
    this_cycle = [a for a in attempts if in_cycle(a.started_at, cycle_start)]
    # An attempt left open in an earlier training cycle would not count once submitted: start afresh instead.
    unfinished = next((a for a in this_cycle if a.submitted_at is None and a.quiz_id == quiz.id), None)
    if unfinished is not None:
        return unfinished
    if quiz.max_attempts and len(this_cycle) >= quiz.max_attempts:
        raise Conflict(f"受験できる回数({quiz.max_attempts} 回)をすべて使いました。")
    seed = secrets.randbelow(2**31)
    attempt = Attempt(
        user_id=user_id,
        quiz_id=quiz.id,
        course_id=course_id,
        lesson_slug=quiz.lesson_slug,
        test_key=key_for_test(quiz.lesson_slug),
        attempt_number=max((a.attempt_number for a in attempts), default=0) + 1,
        seed=seed,
        paper=paper_for(quiz, seed=seed),
    )
    try:
        # A savepoint, so losing the race undoes this insert only, not the rest of the request's unit of work.
        async with session.begin_nested():
            session.add(attempt)
    except IntegrityError:
        return None
    return attempt


async def get_own_attempt(session: AsyncSession, *, attempt_id: int, user_id: int) -> Attempt:
    """The attempt if it belongs to this user; another learner's attempt is indistinguishable from none."""
    attempt = await session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != user_id:
        raise NotFound("受験記録が見つかりません。")
    return attempt


async def stored_answers(session: AsyncSession, *, attempt_id: int) -> dict[str, AttemptAnswer]:
    result = await session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id))
    return {row.question_id: row for row in result}


def question_definitions(quiz: Quiz) -> dict[str, dict[str, Any]]:
    return {record["def"]["id"]: record for record in quiz.questions}


async def save_answer(
    session: AsyncSession,
    *,
    attempt: Attempt,
    quiz: Quiz,
    question_id: str,
    values: dict[str, list[str]],
    bank: QuestionBank | None = None,
) -> Any:
    """Store one answer as given; the learner can change it until the attempt is submitted. One statement."""
    if attempt.submitted_at is not None:
        raise Conflict("このテストは提出済みです。回答は変更できません。")
    if question_id not in {entry["id"] for entry in attempt.paper}:
        raise NotFound("この受験に含まれない問題です。")
    definitions = bank.definitions if bank else {r["def"]["id"]: r["def"] for r in quiz.questions}
    answer = registry.parse_form(definitions[question_id], values)
    await insert_or_update(
        session,
        AttemptAnswer,
        values={
            "attempt_id": attempt.id,
            "question_id": question_id,
            "answer": answer,
            "answered_at": utcnow(),
        },
        conflict_columns=["attempt_id", "question_id"],
        update_columns=["answer", "answered_at"],
    )
    return answer


@dataclass(frozen=True)
class Submission:
    """A graded submission: the score and, per question on the paper, what the counters take."""

    score: scoring.AttemptScore
    graded: list[tuple[str, Any, bool, list[str]]]  # (question id, answer, correct?, misconceptions)
    first_pass: bool  # the first passed attempt at this lesson's test (the final test: always False)


@dataclass(frozen=True)
class HeldBack:
    """A submission not made because questions are still blank and the learner has not said to go ahead."""

    unanswered: list[str]  # question ids, in the paper's order
    answers: dict[str, AttemptAnswer]  # what the paper holds so far, stored or in the form (not saved)


async def submit_attempt(
    session: AsyncSession,
    *,
    attempt: Attempt,
    quiz: Quiz,
    form: dict[str, dict[str, list[str]]],
    bank: QuestionBank | None = None,
    tally: counters.Tally | None = None,
    blanks_confirmed: bool = True,
) -> Submission | HeldBack | None:
    """Grade and close the attempt; None (and nothing written) when it was already submitted.

    With `blanks_confirmed` False, a paper with blank questions is held back instead (`HeldBack`) and nothing is
    written; the learner is asked to answer them or to confirm.

    The answers saved so far and those in the form are graded first, then the attempt is claimed, with its score,
    by one conditional UPDATE: a double click or a network retry, even on another worker, records the submission
    exactly once. Then every answer is stored with its grade in one batch. The counters are added to `tally` for
    the caller to write with the rest of the request's, or written here when there is none."""
    bank = bank or bank_of(quiz)
    stored = {row.question_id: row for row in await session.execute(STORED_ANSWERS, {"attempt_id": attempt.id})}
    now = utcnow()
    rows, results, graded = [], [], []
    for entry in attempt.paper:
        question_id = entry["id"]
        if question_id in form:
            answer, answered_at = registry.parse_form(bank.definitions[question_id], form[question_id]), now
        elif question_id in stored:
            answer, answered_at = stored[question_id].answer, stored[question_id].answered_at
        else:
            answer, answered_at = None, now
        result = scoring.score_question(bank.parsed[question_id], answer, partial_credit=quiz.partial_credit)
        results.append(result)
        rows.append(
            {
                "attempt_id": attempt.id,
                "question_id": question_id,
                "answer": answer,
                "answered_at": answered_at,
                "credit": result.credit,
                "is_correct": result.is_correct,
                "misconceptions": result.misconceptions,
            }
        )
        graded.append((question_id, answer, bool(result.is_correct), list(result.misconceptions or [])))
    unanswered = [row["question_id"] for row in rows if row["answer"] is None]
    if unanswered and not blanks_confirmed:
        return _hold_back(attempt, rows, unanswered)
    total = scoring.score_attempt(results, pass_mark=quiz.pass_mark)
    claimed = await session.execute(
        CLAIM_ATTEMPT, {"attempt_id": attempt.id, "now": now, "percent": total.percent, "did_pass": total.passed}
    )
    if claimed.rowcount != 1:
        await session.refresh(attempt)
        return None
    for name, value in (("submitted_at", now), ("score", total.percent), ("passed", total.passed)):
        set_committed_value(attempt, name, value)  # what the UPDATE wrote, without a second UPDATE at flush
    await insert_or_update_many(
        session,
        AttemptAnswer,
        rows=rows,
        conflict_columns=["attempt_id", "question_id"],
        update_columns=["answer", "answered_at", "credit", "is_correct", "misconceptions"],
    )
    first_pass = False
    if total.passed and attempt.lesson_slug is not None:
        first_pass = not await session.scalar(
            EARLIER_PASSES,
            {
                "user_id": attempt.user_id,
                "course_id": attempt.course_id,
                "lesson_slug": attempt.lesson_slug,
                "attempt_id": attempt.id,
            },
        )
    submission = Submission(total, graded, first_pass)
    if tally is None:
        department_id = await counters.department_of(session, attempt.user_id)
        if department_id is not None:
            own = counters.Tally(attempt.course_id)
            count_submission(own, department_id, attempt, submission)
            await own.write(session)
    return submission


def _hold_back(attempt: Attempt, rows: list[dict[str, Any]], unanswered: list[str]) -> HeldBack | None:
    """The paper as the learner left it, stored answers and the form's together, written nowhere: a held-back
    submission changes nothing (a concurrent submission's graded answers stay as they are). None when the attempt
    is already submitted, as a submission would find."""
    if attempt.submitted_at is not None:
        return None
    answers = {
        row["question_id"]: AttemptAnswer(question_id=row["question_id"], answer=row["answer"])
        for row in rows
        if row["answer"] is not None
    }
    return HeldBack(unanswered, answers)


def count_submission(tally: counters.Tally, department_id: int, attempt: Attempt, submission: Submission) -> None:
    """What a graded submission adds to its learner's department's counters."""
    tally.graded(department_id, submission.graded)
    if submission.first_pass and attempt.lesson_slug is not None:
        tally.lesson_event(department_id, attempt.lesson_slug, "passed")


async def current_quiz_id(
    session: AsyncSession, *, current_version_id: int | None, lesson_slug: str | None
) -> int | None:
    """The id of this lesson's test (or the final test) in the course's current version."""
    if current_version_id is None:
        return None
    quiz = (await quizzes_of_version(session, version_id=current_version_id)).get(lesson_slug)
    return quiz.id if quiz else None
