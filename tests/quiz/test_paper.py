from app.quiz.paper import draw_paper

QUESTIONS = [{"id": f"q{n}", "type": "single", "choices": [{"id": c} for c in "abcd"]} for n in range(10)] + [
    {"id": "order", "type": "ordering", "steps": [{"id": s} for s in ("x", "y", "z")]},
    {"id": "tf", "type": "true_false"},
]


def test_same_seed_same_paper_and_different_seeds_differ() -> None:
    first = draw_paper(QUESTIONS, seed=42, draw=8, shuffle_questions=True, shuffle_choices=True)
    again = draw_paper(QUESTIONS, seed=42, draw=8, shuffle_questions=True, shuffle_choices=True)
    others = [draw_paper(QUESTIONS, seed=s, draw=8, shuffle_questions=True, shuffle_choices=True) for s in range(5)]
    assert first == again
    assert any(other != first for other in others)


def test_draws_the_requested_number_of_distinct_questions() -> None:
    paper = draw_paper(QUESTIONS, seed=1, draw=8, shuffle_questions=True, shuffle_choices=False)
    ids = [entry["id"] for entry in paper]
    assert len(ids) == 8 == len(set(ids))


def test_without_shuffling_keeps_author_order() -> None:
    paper = draw_paper(QUESTIONS[:3], seed=3, draw=None, shuffle_questions=False, shuffle_choices=False)
    assert [entry["id"] for entry in paper] == ["q0", "q1", "q2"]
    assert paper[0]["order"] == ["a", "b", "c", "d"]


def test_ordering_steps_are_never_shown_in_the_right_order() -> None:
    for seed in range(50):
        paper = draw_paper(QUESTIONS, seed=seed, draw=None, shuffle_questions=False, shuffle_choices=False)
        order = next(entry for entry in paper if entry["id"] == "order")["order"]
        assert order != ["x", "y", "z"] and sorted(order) == ["x", "y", "z"]
