"""Drawing and shuffling an attempt's paper: pure and seeded, so a reload shows the same order."""

from __future__ import annotations

import random
from typing import Any


def _shuffled(items: list[str], rng: random.Random) -> list[str]:
    copy = list(items)
    rng.shuffle(copy)
    return copy


def _display_order(definition: dict[str, Any], rng: random.Random, shuffle_choices: bool) -> list[str] | None:
    kind = definition["type"]
    if kind in ("single", "multiple"):
        ids = [c["id"] for c in definition["choices"]]
    elif kind == "scenario":
        ids = [r["id"] for r in definition["responses"]]
    elif kind == "ordering":
        ids = [s["id"] for s in definition["steps"]]
        # Steps are always shown out of order, or the question answers itself.
        order = _shuffled(ids, rng)
        while order == ids:
            order = _shuffled(ids, rng)
        return order
    else:
        return None
    return _shuffled(ids, rng) if shuffle_choices else ids


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
    return [{"id": d["id"], "order": _display_order(d, rng, shuffle_choices)} for d in chosen]
