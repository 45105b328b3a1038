"""Helpers that answer a paper as a learner would, through the real pages."""

from __future__ import annotations

import httpx
from bs4 import BeautifulSoup
from sqlalchemy.ext.asyncio import AsyncSession

from app.quiz.models import Attempt, Quiz
from app.quiz.registry import sample_form


async def start(client: httpx.AsyncClient, quiz_id: int) -> int:
    response = await client.post(f"/quizzes/{quiz_id}/attempts")
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def answer_fields(db: AsyncSession, attempt_id: int, *, correct: bool) -> dict[str, list[str]]:
    """Form fields q.<id>.<field> answering every question of the attempt rightly or wrongly."""
    attempt = await db.get(Attempt, attempt_id, populate_existing=True)
    assert attempt is not None
    quiz = await db.get(Quiz, attempt.quiz_id)
    assert quiz is not None
    definitions = {record["def"]["id"]: record["def"] for record in quiz.questions}
    import random

    rng = random.Random(0)
    fields: dict[str, list[str]] = {}
    for entry in attempt.paper:
        for name, values in sample_form(definitions[entry["id"]], correct=correct, rng=rng).items():
            fields[f"q.{entry['id']}.{name}"] = values
    return fields


def page_text(html: str) -> str:
    return BeautifulSoup(html, "html.parser").get_text(" ", strip=True)
