"""The benchmark's regression guard and the pieces of the load driver that decide what counts as success."""

import json
from pathlib import Path

from bench.compare import compare, main
from bench.driver import answer_form, percentile


def run(lesson_ratio: float, lesson_p95: float, *, acked: int = 100, stored: int = 100, errors: int = 0) -> dict:
    return {
        "runs": {
            "sqlite": {
                "ratios": {"lesson page / B3": lesson_ratio},
                "lesson_page": {"p95_ms": lesson_p95, "errors": errors},
                "submissions": {"p95_ms": 9999.0, "errors": 0},
                "rush": {"acknowledged_submissions": acked, "stored_submissions": stored, "errors": 0},
            }
        }
    }


def test_a_drop_beyond_the_margin_is_a_regression_and_within_it_is_not() -> None:
    baseline = run(0.50, 80.0)
    assert compare(baseline, run(0.46, 85.0), margin=0.10) == []
    problems = compare(baseline, run(0.40, 80.0), margin=0.10)
    assert problems == ["sqlite: lesson page / B3 fell from 0.500 to 0.400 (-20%)"]
    assert compare(baseline, run(0.50, 95.0), margin=0.10) == [
        "sqlite: lesson page p95 grew from 80.0 ms to 95.0 ms (+19%)"
    ]


def test_more_errors_than_the_baseline_and_lost_submissions_fail() -> None:
    baseline = run(0.50, 80.0)
    assert compare(baseline, run(0.60, 70.0, errors=3), margin=0.10) == ["sqlite: 3 failed requests, 0 in the baseline"]
    assert compare(run(0.5, 80.0, errors=3), run(0.5, 80.0, errors=3), margin=0.10) == []
    assert "acknowledged 100 submissions but stored 99" in compare(baseline, run(0.5, 80.0, stored=99), margin=0.1)[0]


def test_fewer_submissions_held_than_the_baseline_beyond_the_margin_fail() -> None:
    baseline, kept, fewer = run(0.5, 80.0), run(0.5, 80.0), run(0.5, 80.0)
    baseline["runs"]["sqlite"]["submissions_held_per_s"] = 300
    kept["runs"]["sqlite"]["submissions_held_per_s"] = 250
    fewer["runs"]["sqlite"]["submissions_held_per_s"] = 200
    assert compare(baseline, kept, margin=0.2) == []
    assert compare(baseline, fewer, margin=0.2) == ["sqlite: submissions held at p95 ≤ 100 ms fell from 300/s to 200/s"]


def test_the_script_exits_non_zero_on_a_regression(tmp_path: Path, capsys) -> None:
    (tmp_path / "a.json").write_text(json.dumps(run(0.50, 80.0)))
    (tmp_path / "b.json").write_text(json.dumps(run(0.30, 80.0)))
    assert main([str(tmp_path / "a.json"), str(tmp_path / "a.json")]) == 0
    assert main([str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--margin", "0.2"]) == 1
    assert "REGRESSION: sqlite: lesson page / B3 fell" in capsys.readouterr().out


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50.0, 95.0, 99.0)
    assert percentile([7.0], 95) == 7.0


def test_answer_sheet_answers_every_question_as_the_page_offers_it() -> None:
    page = """
    <input type="radio" name="q.a.answer" value="x"> <input type="radio" name="q.a.answer" value="y">
    <input type="hidden" name="q.b.answer" value="">
    <input type="checkbox" name="q.b.answer" value="m"> <input type="checkbox" name="q.b.answer" value="n">
    <select id="o-c-1" name="q.c.position-s1"></select><select id="o-c-2" name="q.c.position-s2"></select>
    """
    assert answer_form(page) == [
        ("q.a.answer", "x"),
        ("q.b.answer", "m"),
        ("q.c.position-s1", "1"),
        ("q.c.position-s2", "2"),
    ]
