import asyncio
import shutil
from pathlib import Path

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.authoring import drafts
from app.content.models import Course
from app.content.pack import load_pack
from app.quiz.models import Attempt, AttemptAnswer, Quiz
from tests.conftest import MINI_COURSE, make_user, sign_in
from tests.quiz.helpers import answer_fields, page_text, start


async def quiz_for(db: AsyncSession, course: Course, lesson_slug: str | None) -> Quiz:
    await db.refresh(course)
    statement = select(Quiz).where(Quiz.version_id == course.current_version_id)
    statement = statement.where(Quiz.lesson_slug.is_(None) if lesson_slug is None else Quiz.lesson_slug == lesson_slug)
    quiz = await db.scalar(statement)
    assert quiz is not None
    return quiz


def chosen_on_page(soup: BeautifulSoup, question_id: str) -> dict[str, list[str]]:
    """What the page shows as chosen for one question: ticked boxes and selected positions, per field."""
    chosen: dict[str, list[str]] = {}
    for box in soup.select(f"#q-{question_id} input[checked]"):
        chosen.setdefault(box["name"], []).append(box["value"])
    for select_box in soup.select(f"#q-{question_id} select"):
        option = select_box.select_one("option[selected]")
        if option is not None:
            chosen.setdefault(select_box["name"], []).append(option["value"])
    return {name: sorted(values) for name, values in chosen.items()}


async def test_the_paper_never_contains_the_answers(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    for lesson_slug in ("basics", "responses"):
        quiz = await quiz_for(db, mini_course, lesson_slug)
        attempt_id = await start(learner_client, quiz.id)
        html = (await learner_client.get(f"/attempts/{attempt_id}")).text
        soup = BeautifulSoup(html, "html.parser")
        assert soup.find("html")["lang"] == "ja"
        attempt = await db.get(Attempt, attempt_id)
        definitions = {record["def"]["id"]: record["def"] for record in quiz.questions}
        shown = [definitions[entry["id"]] for entry in attempt.paper]
        assert len(soup.select("fieldset.question")) == len(shown) == (quiz.draw or len(quiz.questions))
        for definition in shown:
            assert definition["prompt"] in html
            assert definition["explanation"] not in html
            for item in definition.get("choices", []) + definition.get("responses", []):
                assert item["text"] in html
                for secret in (item.get("rationale"), item.get("feedback")):
                    assert not secret or secret not in html
        for marker in ("correct", "rating", "最善", "解説"):
            assert marker not in html


async def test_answers_are_saved_as_given_and_the_attempt_resumes(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    quiz = await quiz_for(db, mini_course, "basics")
    attempt_id = await start(learner_client, quiz.id)
    first_view = await learner_client.get(f"/attempts/{attempt_id}")
    saved = await learner_client.post(
        f"/attempts/{attempt_id}/answers/b-single",
        data={"q.b-single.answer": "a"},
        headers={"HX-Request": "true"},
    )
    assert saved.status_code == 200 and "保存しました" in saved.text
    # closing the tab and coming back: the same attempt, the same order, the answer still chosen
    assert await start(learner_client, quiz.id) == attempt_id
    second_view = await learner_client.get(f"/attempts/{attempt_id}")

    def order(html):
        return [i["value"] for i in BeautifulSoup(html, "html.parser").select("input[type=radio],input[type=checkbox]")]

    assert order(first_view.text) == order(second_view.text)
    checked = BeautifulSoup(second_view.text, "html.parser").select_one("input[name='q.b-single.answer'][checked]")
    assert checked["value"] == "a"


async def test_bad_answers_get_a_clear_message(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    quiz = await quiz_for(db, mini_course, "basics")
    attempt_id = await start(learner_client, quiz.id)
    bad = await learner_client.post(
        f"/attempts/{attempt_id}/answers/b-single",
        data={"q.b-single.answer": "zzz"},
        headers={"HX-Request": "true"},
    )
    assert bad.status_code == 422 and "選択肢から1つ選んでください" in bad.text
    unknown = await learner_client.post(f"/attempts/{attempt_id}/answers/not-on-paper", data={})
    assert unknown.status_code == 404


async def test_submission_scores_shows_explanations_and_counts_once(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course, learner: User
) -> None:
    quiz = await quiz_for(db, mini_course, "basics")
    attempt_id = await start(learner_client, quiz.id)
    fields = await answer_fields(db, attempt_id, correct=True)
    # a double click or a retry arriving at the same time
    responses = await asyncio.gather(
        *[learner_client.post(f"/attempts/{attempt_id}/submit", data=fields) for _ in range(5)]
    )
    assert {r.status_code for r in responses} == {303}
    attempts = (await db.scalars(select(Attempt).where(Attempt.user_id == learner.id))).all()
    assert len(attempts) == 1 and attempts[0].submitted_at is not None
    assert attempts[0].score == 100.0 and attempts[0].passed is True
    answers = await db.scalar(select(func.count()).where(AttemptAnswer.attempt_id == attempt_id))
    assert answers == 3
    result = await learner_client.get(f"/attempts/{attempt_id}")
    text = page_text(result.text)
    assert "100 %" in text and "合格です。" in text
    assert "要求内容の妥当性と手段・態様の相当性です。" in text  # the explanation is shown now


async def test_wrong_answers_name_the_misconception(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    quiz = await quiz_for(db, mini_course, "basics")
    attempt_id = await start(learner_client, quiz.id)
    await learner_client.post(f"/attempts/{attempt_id}/submit", data=await answer_fields(db, attempt_id, correct=False))
    text = page_text((await learner_client.get(f"/attempts/{attempt_id}")).text)
    assert "不合格です。合格点は80%です。" in text
    assert "とりあえず全面的に謝れば収まる" in text and "謝罪は対象を限定します。" in text
    # a submitted attempt can no longer be changed
    late = await learner_client.post(f"/attempts/{attempt_id}/answers/b-single", data={"q.b-single.answer": "a"})
    assert late.status_code == 409


async def test_attempt_limit_is_enforced(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    quiz = await quiz_for(db, mini_course, "basics")  # max_attempts: 2
    for _ in range(2):
        attempt_id = await start(learner_client, quiz.id)
        await learner_client.post(f"/attempts/{attempt_id}/submit", data={"blanks": "confirmed"})
    refused = await learner_client.post(f"/quizzes/{quiz.id}/attempts")
    assert refused.status_code == 409 and "受験できる回数(2 回)をすべて使いました" in refused.text
    page = await learner_client.get("/courses/mini-course/lessons/basics/test")
    assert "受験できる回数をすべて使いました。" in page_text(page.text)


async def test_another_learner_cannot_see_or_touch_my_attempt(
    client: httpx.AsyncClient, db: AsyncSession, mini_course: Course, learner: User
) -> None:
    await sign_in(client, learner.email)
    quiz = await quiz_for(db, mini_course, "basics")
    attempt_id = await start(client, quiz.id)
    await make_user(db, "other@example.com")
    await sign_in(client, "other@example.com")
    for response in (
        await client.get(f"/attempts/{attempt_id}"),
        await client.post(f"/attempts/{attempt_id}/answers/b-single", data={"q.b-single.answer": "a"}),
        await client.post(f"/attempts/{attempt_id}/submit", data={"blanks": "confirmed"}),
    ):
        assert response.status_code == 404
    assert (await db.get(Attempt, attempt_id, populate_existing=True)).submitted_at is None


async def test_attempts_stay_pinned_to_the_version_they_were_taken_on(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course, tmp_path: Path
) -> None:
    old_quiz = await quiz_for(db, mini_course, "basics")
    attempt_id = await start(learner_client, old_quiz.id)
    await learner_client.post(f"/attempts/{attempt_id}/submit", data=await answer_fields(db, attempt_id, correct=True))

    edited = tmp_path / "pack"
    shutil.copytree(MINI_COURSE, edited)
    quiz_file = edited / "quizzes/01-basics.yaml"
    quiz_file.write_text(quiz_file.read_text().replace("判断の2つの軸は?", "カスハラを判断する2つの軸は何ですか。"))
    version = await drafts.import_pack(db, pack=load_pack(edited))
    await db.commit()
    assert version is not None and version.number == 2

    old_result = page_text((await learner_client.get(f"/attempts/{attempt_id}")).text)
    assert "判断の2つの軸は?" in old_result  # the old attempt still shows what was asked then
    new_quiz = await quiz_for(db, mini_course, "basics")
    assert new_quiz.id != old_quiz.id
    stale = await learner_client.post(f"/quizzes/{old_quiz.id}/attempts")
    assert stale.status_code == 409  # new attempts are only started on the current version
    new_attempt_id = await start(learner_client, new_quiz.id)
    pinned = await db.get(Attempt, new_attempt_id)
    assert pinned is not None and pinned.quiz_id == new_quiz.id
    assert "カスハラを判断する2つの軸は何ですか。" in page_text(
        (await learner_client.get(f"/attempts/{new_attempt_id}")).text
    )


async def test_a_paper_with_blank_questions_is_held_back_until_the_learner_confirms(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    quiz = await quiz_for(db, mini_course, "basics")
    attempt_id = await start(learner_client, quiz.id)
    attempt = await db.get(Attempt, attempt_id)
    assert attempt is not None
    paper = [entry["id"] for entry in attempt.paper]
    fields = await answer_fields(db, attempt_id, correct=True)
    one_answered = {name: values for name, values in fields.items() if name.startswith(f"q.{paper[0]}.")}

    shown = await learner_client.get(f"/attempts/{attempt_id}")
    assert f"0 / {len(paper)} 問 回答済み" in page_text(shown.text)

    held = await learner_client.post(f"/attempts/{attempt_id}/submit", data=one_answered)
    assert held.status_code == 200
    soup = BeautifulSoup(held.text, "html.parser")
    warning = soup.select_one("#held-back")
    assert warning is not None and f"未回答の問題が{len(paper) - 1}問あります" in warning.get_text()
    listed = [a["href"] for a in warning.select(".unanswered-list a")]
    assert listed == [f"#q-{question_id}" for question_id in paper[1:]]  # in the paper's order
    assert [f["id"] for f in soup.select("fieldset.unanswered")] == [f"q-{question_id}" for question_id in paper[1:]]
    assert f"1 / {len(paper)} 問 回答済み" in page_text(held.text)
    # the answer given in the form is still chosen on the page, though nothing was written
    assert chosen_on_page(soup, paper[0]) == {name: sorted(values) for name, values in one_answered.items()}
    await db.refresh(attempt)
    assert attempt.submitted_at is None and attempt.score is None
    assert await db.scalar(select(func.count()).where(AttemptAnswer.attempt_id == attempt_id)) == 0

    confirmed = await learner_client.post(
        f"/attempts/{attempt_id}/submit", data={**one_answered, "blanks": "confirmed"}
    )
    assert confirmed.status_code == 303
    await db.refresh(attempt)
    assert attempt.submitted_at is not None
    assert attempt.score is not None and 0 < attempt.score < 100  # one question right, the blanks wrong
    stored = await db.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id))
    assert sorted((row.question_id, row.answer is None) for row in stored) == sorted(
        (question_id, question_id != paper[0]) for question_id in paper
    )


async def test_a_full_paper_submits_at_once_and_saved_answers_count_as_answered(
    learner_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course
) -> None:
    quiz = await quiz_for(db, mini_course, "basics")
    attempt_id = await start(learner_client, quiz.id)
    fields = await answer_fields(db, attempt_id, correct=False)
    first = min({name.split(".")[1] for name in fields})
    for name, values in fields.items():  # one question answered earlier by autosave, the rest in the form
        if name.split(".")[1] == first:
            saved = await learner_client.post(f"/attempts/{attempt_id}/answers/{first}", data={name: values})
            assert saved.status_code == 200
    in_form = {name: values for name, values in fields.items() if name.split(".")[1] != first}
    submitted = await learner_client.post(f"/attempts/{attempt_id}/submit", data=in_form)
    assert submitted.status_code == 303
    attempt = await db.get(Attempt, attempt_id, populate_existing=True)
    assert attempt is not None and attempt.submitted_at is not None
