"""Dashboard benchmark: the 受講状況 page and its API at a given organisation size.

    python bench/dashboard.py --employees 10000 100000 --db sqlite postgres

For each database and size: a fresh database, migrations, the basic course, `python -m bench.seed organisation`,
then a real server process (uvicorn, one worker) measured by sequential requests from this process (closed loop,
one at a time: the figure asked for is the latency a manager sees). Results go to bench/results/*.json and are
printed as a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1/postgres")
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1/{name}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_module(env: dict[str, str], module: str, *args: str) -> str:
    """`python -m module args` in the project root; its output, or an error with everything it printed."""
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def lms(env: dict[str, str], *args: str) -> str:
    return run_module(env, "app.cli", *args)


def seed_data(env: dict[str, str], *args: str) -> str:
    """The benchmark seeder (bench/seed.py): never part of the product's `lms` command."""
    return run_module(env, "bench.seed", *args)


def prepare(db: str, employees: int) -> dict[str, str]:
    env = {**os.environ, "LMS_ENV": "development", "LMS_SECRET_KEY": "b" * 48, "LMS_LOG_LEVEL": "warning"}
    if db == "sqlite":
        path = RESULTS / f"bench-{employees}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        env["LMS_DATABASE_URL"] = f"sqlite+aiosqlite:///{path}"
    else:
        name = f"lms_bench_{employees}"
        subprocess.run(
            ["psql", PG_ADMIN, "-qc", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}"],
            check=True,
            capture_output=True,
        )
        env["LMS_DATABASE_URL"] = PG_URL.format(name=name)
    lms(env, "db", "upgrade")
    lms(env, "content", "import", "content/kasuhara-basics")
    started = time.perf_counter()
    out = seed_data(env, "organisation", "--employees", str(employees))
    env["SEED_SECONDS"] = f"{time.perf_counter() - started:.0f}"
    emails = re.findall(r"(bench-manager-[\w-]+@example\.com)", out)
    env["DIVISION_MANAGER"], env["DEPARTMENT_MANAGER"] = emails[0], emails[1]
    if db == "postgres":
        subprocess.run(
            ["psql", PG_ADMIN.rsplit("/", 1)[0] + f"/lms_bench_{employees}", "-qc", "VACUUM ANALYZE"],
            check=True,
            capture_output=True,
        )
    return env


def measure(client: httpx.Client, url: str, count: int, headers: dict[str, str] | None = None) -> dict[str, float]:
    for _ in range(3):  # warm-up: first queries fill caches
        client.get(url, headers=headers).raise_for_status()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    samples.sort()
    return {
        "p50": round(statistics.median(samples), 1),
        "p95": round(samples[int(0.95 * (count - 1))], 1),
        "max": round(samples[-1], 1),
        "n": count,
    }


def run(db: str, employees: int, count: int) -> dict:
    env = prepare(db, employees)
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        results = {"db": db, "employees": employees, "seed_seconds": int(env["SEED_SECONDS"]), "timings": {}}
        for role, email, password in (
            ("admin", None, None),
            ("division manager", env["DIVISION_MANAGER"], "bench-password"),
            ("department manager", env["DEPARTMENT_MANAGER"], "bench-password"),
        ):
            with httpx.Client(base_url=base, timeout=60) as client:
                if email is None:
                    email, password = "bench-admin@example.com", "bench-admin-password"
                    lms(env, "user", "create", email, "--name", "管理者", "--role", "admin", "--password", password)
                signed_in = client.post("/login", data={"email": email, "password": password})
                assert signed_in.status_code == 303, signed_in.text
                token_page = client.post("/account/tokens", data={"name": "bench"}).text
                token = re.search(r'<code class="token">([^<]+)</code>', token_page).group(1)
                api = {"Authorization": f"Bearer {token}"}
                htmx = {"HX-Request": "true", "HX-Target": "employee-table"}
                results["timings"][role] = {
                    "dashboard page": measure(client, "/dashboard", count),
                    "table page 2, sorted by progress (HTMX)": measure(
                        client, "/dashboard?sort=progress&dir=desc&page=2", count, htmx
                    ),
                    "API summary": measure(client, "/api/v1/summary", count, api),
                    "API employees (100 rows)": measure(client, "/api/v1/employees", count, api),
                }
        return results
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for db in args.db:
        for employees in args.employees:
            result = run(db, employees, args.requests)
            (RESULTS / f"dashboard-{db}-{employees}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2))
            print(f"\n### {db}, {employees:,} employees (seeded in {result['seed_seconds']} s)\n")
            print("| who | request | p50 ms | p95 ms | max ms |\n|---|---|---|---|---|")
            for role, rows in result["timings"].items():
                for name, t in rows.items():
                    print(f"| {role} | {name} | {t['p50']} | {t['p95']} | {t['max']} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
