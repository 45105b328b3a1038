"""Scale-out on PostgreSQL: the signed-in lesson page with one worker, then two, on the same prepared database.

    python bench/scaleout.py                      # after bench/load.py has prepared the PostgreSQL template

The workers are stateless (all state is in PostgreSQL; a worker caches only published versions), so capacity
grows with the worker processes as long as each has a core. This machine has two cores: one worker is pinned to
CPU 0 with the load generator (wrk) on CPU 1, as in bench/load.py; two workers need both cores, so the generator
then shares them and the second figure is a lower bound. Both runs are written to
bench/results/scaleout-<time>.json.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.driver import RssSampler, run_wrk
from bench.load import CACHE, LESSON, RESULTS, Server, base_env, clone, template


def lesson_page(server: Server, meta: dict, *, seconds: int, cpu: int | None) -> dict:
    cookies = meta["cookies"][:500]
    url = server.base + LESSON
    with httpx.Client(timeout=30) as client:  # first views write; the repeat view is what is measured
        for cookie in cookies:
            client.get(url, headers={"Cookie": f"{meta['cookie_name']}={cookie}"}).raise_for_status()
    run_wrk(url, connections=32, seconds=2, cookie_name=meta["cookie_name"], cookies=cookies, cpu=cpu)
    result = run_wrk(url, connections=32, seconds=seconds, cookie_name=meta["cookie_name"], cookies=cookies, cpu=cpu)
    result["rss_mb"] = round(RssSampler(server.pid).read_kib() / 1024, 1)
    return result


def main() -> None:
    source, meta = template("postgres", 100_000, 5000, False)
    report: dict = {"date": datetime.now(UTC).strftime("%Y%m%d-%H%M"), "runs": {}}
    for workers, cpus, client_cpu in ((1, "0", 1), (2, "0,1", None)):
        url = clone("postgres", source)
        env = {**base_env(), "LMS_DATABASE_URL": url, "LMS_WORKER_IN_PROCESS": "false"}
        server = Server(
            "app.main:create_app", env, factory=True, log=CACHE / "scaleout.log", workers=workers, cpus=cpus
        )
        try:
            result = lesson_page(server, meta, seconds=15, cpu=client_cpu)
        finally:
            server.stop()
        report["runs"][f"{workers} worker(s) on CPU {cpus}"] = result
        print(f"  {workers} worker(s): {result['rps']:.0f} req/s, p95 {result['p95_ms']} ms")
    one, two = (run["rps"] for run in report["runs"].values())
    report["two_over_one"] = round(two / one, 2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"scaleout-{report['date']}.json"
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(json.dumps({"two_over_one": report["two_over_one"]}), f"written: {out}")


if __name__ == "__main__":
    main()
