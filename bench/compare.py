"""Regression guard: compare two load-benchmark results and fail when the app got slower.

    python bench/compare.py BASELINE.json CANDIDATE.json [--margin 0.30]

Compares the ratios to the B3 ceiling (throughput relative to the same machine's templating ceiling, so a
faster or slower machine does not count as a change), the highest submission rate held with p95 ≤ 100 ms
(`submissions_held_per_s`), and the p95 latencies of each scenario. Exits 1 when a
ratio dropped, or a p95 grew, by more than the margin, when more requests failed than in the baseline, or when the
deadline rush acknowledged a submission that was not stored; 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

LATENCIES = {
    "lesson page p95": ("lesson_page", "p95_ms"),
    "herd start p95": ("herd", "requests", "start test", "p95_ms"),
    "dashboard under load p95": ("dashboard_under_load", "dashboard", "p95_ms"),
}


def dig(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def failed_requests(run: dict[str, Any]) -> int:
    return sum(int(dig(run, (scenario, "errors")) or 0) for scenario in ("lesson_page", "submissions", "rush"))


def compare(baseline: dict[str, Any], candidate: dict[str, Any], margin: float) -> list[str]:
    """The regressions found, as sentences; empty when the candidate is as good as the baseline."""
    problems: list[str] = []
    for db, run in candidate["runs"].items():
        base = baseline["runs"].get(db)
        if base is None:
            continue
        for name, ratio in run.get("ratios", {}).items():
            before = base.get("ratios", {}).get(name)
            if before and ratio < before * (1 - margin):
                problems.append(f"{db}: {name} fell from {before:.3f} to {ratio:.3f} ({ratio / before - 1:+.0%})")
        for name, path in LATENCIES.items():
            before, after = dig(base, path), dig(run, path)
            if before and after and after > before * (1 + margin):
                problems.append(f"{db}: {name} grew from {before} ms to {after} ms ({after / before - 1:+.0%})")
        held, held_before = run.get("submissions_held_per_s"), base.get("submissions_held_per_s")
        if held is not None and held_before and held < held_before * (1 - margin):
            problems.append(f"{db}: submissions held at p95 ≤ 100 ms fell from {held_before}/s to {held}/s")
        errors, errors_before = failed_requests(run), failed_requests(base)
        if errors > errors_before:
            problems.append(f"{db}: {errors} failed requests, {errors_before} in the baseline")
        rush = run.get("rush", {})
        if rush and rush.get("acknowledged_submissions") != rush.get("stored_submissions"):
            problems.append(
                f"{db}: deadline rush acknowledged {rush.get('acknowledged_submissions')} submissions "
                f"but stored {rush.get('stored_submissions')}"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", type=Path)
    parser.add_argument("candidate", type=Path)
    # Two runs of the same code on this machine differed by up to 15 % in ratios and 28 % in p95 (PostgreSQL is
    # not pinned): a smaller margin would cry wolf.
    parser.add_argument("--margin", type=float, default=0.30, help="allowed relative change (default 0.30)")
    args = parser.parse_args(argv)
    problems = compare(json.loads(args.baseline.read_text()), json.loads(args.candidate.read_text()), args.margin)
    for problem in problems:
        print("REGRESSION:", problem)
    if not problems:
        print(f"no regression beyond {args.margin:.0%}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
