"""Drawing and shuffling an attempt's paper: pure and seeded, so a reload shows the same order."""

from __future__ import annotations

import random
from typing import Any

from app.quiz.registry import kind_of


def draw_paper(
    definitions: list[dict[str, Any]],
    *,
    seed: int,
    draw: int | None,
    shuffle_questions: bool,
    shuffle_choices: bool,
) -> list[dict[str, Any]]:
    """[{"id": question id, "order": choice ids as displayed or None}] for one attempt."""
    rng = random.Random(seed)
    chosen = list(definitions)
    if draw is not None and draw < len(chosen):
        picked = set(rng.sample(range(len(chosen)), draw))
        chosen = [d for index, d in enumerate(chosen) if index in picked]
    if shuffle_questions:
        rng.shuffle(chosen)
    return [{"id": d["id"], "order": kind_of(d).display_order(d, rng, shuffle_choices)} for d in chosen]
