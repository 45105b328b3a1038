"""Scenario (3) of bench/load.py alone: two managers refreshing the admin dashboard while submissions arrive.

    python bench/dashboard_beside.py --db sqlite            # after bench/load.py has prepared the template
    python bench/dashboard_beside.py --db postgres --rate 25

Quicker than the full run when trying a change to the dashboard or to learners-first scheduling; prints the same
figures as the full run's `dashboard_under_load` (submissions alone, then with the dashboard, and the slowdown).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.load import CACHE, CLIENT_CPU, Scenarios, Server, base_env, clone, postgres_on_client_cpu, template


async def measure(server: Server, meta: dict, url: str, rate: int, seconds: int) -> dict:
    os.sched_setaffinity(0, {CLIENT_CPU})
    runner = Scenarios(server.base, meta, url, server.pid, False)
    try:
        await runner.prepare_submissions(rate * seconds * 2 + 50)
        for _ in range(3):  # the first view computes the snapshot, as a manager's first look of the day does
            await runner.client.get("/dashboard", headers=runner.admin())
        return await runner.dashboard_during_submissions(rate, seconds)
    finally:
        await runner.client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rate", type=int, default=25, help="submissions per second")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    source, meta = template(args.db, 100_000, 5000, False)
    url = clone(args.db, source)
    with postgres_on_client_cpu():
        server = Server(
            "app.main:create_app",
            {**base_env(), "LMS_DATABASE_URL": url},
            factory=True,
            log=CACHE / "dashboard-beside.log",
        )
        try:
            result = asyncio.run(measure(server, meta, url, args.rate, args.seconds))
        finally:
            server.stop()
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
