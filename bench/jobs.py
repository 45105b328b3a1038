"""Background-job benchmark: a 督促 to every overdue employee, delivered to a local SMTP sink by `lms worker`.

    python bench/jobs.py --employees 20000 --db sqlite postgres          # writes var/bench/jobs.json
    python bench/jobs.py --employees 2000 --db sqlite --smtp-delay-ms 2  # a quick try, a slower mail server

For each database: a template (fresh database, migrations, the basic course, `seed_overdue` with N employees and
a signed-in admin), cloned for every scenario so each starts from the same data with no job at all. In each
scenario a real server (uvicorn, LMS_WORKER_IN_PROCESS=false, so the request does no mail work) takes the
admin's `POST /dashboard/remind` (course, all_overdue=true), timed from this process; then `lms worker`
processes do the work and an aiosmtpd sink in this process (its own thread) records every Message-ID:

- clean: one worker (--concurrency 4), never interrupted: the mails/s figure;
- kill: one worker, SIGKILLed when the sink has --kill-at of the mails, a new one started at once;
- two: two workers at the same time (PostgreSQL by default: --two-workers-db).

After each scenario the database is checked: one Reminder row per employee, no outbox message unsent, every
outbox message's Message-ID received (distinct) and how many arrived twice, the jobs' states and attempts, and the
warnings in the workers' logs. Refused when LMS_ENV=production, and only run against databases it creates itself
(PostgreSQL on this machine, names starting with lms_bench_jobs; SQLite files in a temporary directory).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from aiosmtpd.controller import Controller

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.dashboard import PG_ADMIN, PG_URL, free_port, lms

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench"
COURSE = "kasuhara-basics"
SECRET = "j" * 48
DB_PREFIX = "lms_bench_jobs"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*<outbox-(\d+)@", re.IGNORECASE | re.MULTILINE)
UNFINISHED_JOBS = "SELECT count(*) FROM jobs WHERE state NOT IN ('succeeded', 'dead')"


# --- refusing anything that is not ours ---------------------------------------------------------------------


def refuse_production(url: str, *, sqlite_dir: Path | None = None) -> None:
    """Stop unless this is a benchmark database on this machine (never LMS_ENV=production, as bench/seed.py)."""
    if os.environ.get("LMS_ENV", "").strip().lower() == "production":
        raise SystemExit("LMS_ENV=production: the job benchmark does not run against a production set-up.")
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[-1]).resolve()
        if sqlite_dir is None or not path.is_relative_to(sqlite_dir.resolve()):
            raise SystemExit(f"refusing {url}: the benchmark only uses SQLite files in its own temporary directory")
        return
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if parts.hostname not in LOCAL_HOSTS or not (name == "postgres" or name.startswith(DB_PREFIX)):
        raise SystemExit(f"refusing {url}: only PostgreSQL on this machine, databases named {DB_PREFIX}*")


def psql(*commands: str) -> None:
    refuse_production(PG_ADMIN)
    args = ["psql", PG_ADMIN, "-v", "ON_ERROR_STOP=1", "-q"]
    for command in commands:
        args += ["-c", command]
    subprocess.run(args, check=True, capture_output=True)


# --- the SMTP sink ------------------------------------------------------------------------------------------


class Sink:
    """An SMTP server (aiosmtpd, in its own thread) keeping the outbox id of every Message-ID, with arrival times."""

    def __init__(self, delay_ms: float) -> None:
        self.delay = delay_ms / 1000
        self.lock = threading.Lock()
        self.ids: list[int] = []
        self.times: list[float] = []
        self.distinct: set[int] = set()
        self.unparsed = 0
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # aiosmtpd's hook
        if self.delay:
            await asyncio.sleep(self.delay)
        found = MESSAGE_ID.search(envelope.original_content or envelope.content)
        now = time.time()  # wall clock, comparable with the jobs' timestamps
        with self.lock:
            if found is None:
                self.unparsed += 1
            else:
                outbox_id = int(found.group(1))
                self.ids.append(outbox_id)
                self.times.append(now)
                self.distinct.add(outbox_id)
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.ids, self.times, self.distinct, self.unparsed = [], [], set(), 0

    def counts(self) -> tuple[int, int]:
        with self.lock:
            return len(self.distinct), len(self.ids)


# --- databases ----------------------------------------------------------------------------------------------


def run_async(work: Any) -> Any:
    return asyncio.run(work)


def engine_for(url: str) -> Any:
    import app.models  # noqa: F401 - every model registered, so foreign keys between domains resolve
    from app.core.config import Settings
    from app.core.db import make_engine

    return make_engine(Settings(database_url=url, secret_key=SECRET, env="test"))


async def scalar(url: str, sql: str) -> Any:
    from sqlalchemy import text

    engine = engine_for(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text(sql))).scalar_one()
    finally:
        await engine.dispose()


@dataclass
class Template:
    db: str
    url: str
    name: str  # PostgreSQL database or SQLite file
    admin_cookie: str
    user_ids: list[int]
    seconds: float


async def seed_template(url: str, employees: int) -> tuple[str, list[int]]:
    """N overdue employees and an admin who is signed in (a session row, as bench/seed.py writes learners')."""
    from sqlalchemy import func, select, text

    from app import subscriptions
    from app.auth.deps import cookie_serializer
    from app.auth.identifiers import token_hash
    from app.auth.models import UserSession
    from app.core.config import Settings
    from app.core.db import make_sessionmaker, utcnow
    from app.jobs.models import Job
    from app.mail.models import OutboxMessage
    from bench.seed import seed_overdue

    settings = Settings(database_url=url, secret_key=SECRET, env="test")
    subscriptions.install(settings)
    engine = engine_for(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            seeded = await seed_overdue(session, count=employees, course_slug=COURSE)
            token = secrets.token_urlsafe(32)
            now = utcnow()
            session.add(
                UserSession(token_hash=token_hash(token), user_id=seeded.admin_id, created_at=now, last_seen_at=now)
            )
        async with make_sessionmaker(engine)() as session, session.begin():
            # The template must hold no work of its own: every mail the sink sees is the 督促's.
            jobs = await session.scalar(select(func.count()).select_from(Job).where(Job.state != "succeeded"))
            outbox = await session.scalar(select(func.count()).select_from(OutboxMessage))
            assert jobs == 0 and outbox == 0, f"the seeded template has {jobs} unfinished jobs, {outbox} mails"
        async with engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()
        return cookie_serializer(settings).dumps(token), seeded.user_ids
    finally:
        await engine.dispose()


def make_template(db: str, employees: int, workdir: Path) -> Template:
    started = time.perf_counter()
    if db == "sqlite":
        name = str(workdir / "template.sqlite3")
        url = f"sqlite+aiosqlite:///{name}"
        refuse_production(url, sqlite_dir=workdir)
    else:
        name = f"{DB_PREFIX}_template"
        url = PG_URL.format(name=name)
        refuse_production(url)
        psql(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    from app.core.migrate import upgrade

    upgrade(url)
    lms(worker_env(url, 0), "content", "import", f"content/{COURSE}")
    # Publishing the course enqueued its standings' recomputation (nobody enrolled yet): run it now, as a worker
    # would have long before a 督促, so every job the scenarios see is the 督促's.
    lms(worker_env(url, 0), "worker", "--once", "--no-schedules")
    cookie, user_ids = run_async(seed_template(url, employees))
    return Template(db, url, name, cookie, user_ids, round(time.perf_counter() - started, 1))


def clone(template: Template, label: str, workdir: Path) -> tuple[str, str]:
    """A copy of the template for one scenario: (its URL, its name)."""
    if template.db == "sqlite":
        target = workdir / f"{label}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(template.name, target)
        if Path(f"{template.name}-wal").exists():
            shutil.copyfile(f"{template.name}-wal", f"{target}-wal")
        url = f"sqlite+aiosqlite:///{target}"
        refuse_production(url, sqlite_dir=workdir)
        return url, str(target)
    name = f"{DB_PREFIX}_{label}"
    url = PG_URL.format(name=name)
    refuse_production(url)
    psql(f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name} TEMPLATE {template.name}")
    return url, name


def drop(db: str, name: str) -> None:
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{name}{suffix}").unlink(missing_ok=True)
    else:
        with suppress(subprocess.CalledProcessError):
            psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --- processes ----------------------------------------------------------------------------------------------


def worker_env(url: str, smtp_port: int, *, lease_seconds: int = 60) -> dict[str, str]:
    env = {
        **os.environ,
        "LMS_ENV": "test",
        "LMS_SECRET_KEY": SECRET,
        "LMS_DATABASE_URL": url,
        "LMS_LOG_LEVEL": "info",
        "LMS_SMTP_HOST": "127.0.0.1" if smtp_port else "",
        "LMS_SMTP_PORT": str(smtp_port or 25),
        "LMS_SMTP_STARTTLS": "false",
        "LMS_JOB_LEASE_SECONDS": str(lease_seconds),
        "LMS_WORKER_IN_PROCESS": "false",
    }
    env.pop("LMS_TEST_DATABASE_URL", None)
    return env


class Processes:
    """Every subprocess this benchmark started, so a failure anywhere still ends them (by their own pid)."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as output:
            process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                with suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=10)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a live process (from /proc), to see whether a worker is CPU-bound."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat: how saturated the cores were over a phase."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


def start_worker(processes: Processes, url: str, sink: Sink, log: Path, args: argparse.Namespace) -> Any:
    command = [sys.executable, "-m", "app.cli", "worker", "--concurrency", str(args.concurrency), "--no-schedules"]
    env = worker_env(url, sink.port, lease_seconds=args.lease_seconds)
    return processes.start(command, env, log)


def start_server(processes: Processes, url: str, sink: Sink, log: Path) -> tuple[Any, str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    process = processes.start(command, worker_env(url, sink.port), log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited; see {log}")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start; see {log}")


def stop(process: Any, *, timeout: float = 60) -> int | None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        return None


def remind(client: httpx.Client, cookie: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = client.post(
        "/dashboard/remind",
        data={"course": COURSE, "all_overdue": "true"},
        headers={"Cookie": f"lms_session={cookie}"},
    )
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 303 or "job=" not in response.headers.get("location", ""):
        raise RuntimeError(f"POST /dashboard/remind: {response.status_code} {response.text[:500]}")
    return elapsed, response


def warm_up(client: httpx.Client, cookie: str) -> None:
    """What a manager has done before pressing the button: opened the dashboard (templates, caches, pool)."""
    for _ in range(2):
        page = client.get(f"/dashboard?course={COURSE}", headers={"Cookie": f"lms_session={cookie}"})
        if page.status_code != 200:
            raise RuntimeError(f"GET /dashboard: {page.status_code}")


# --- scenarios ----------------------------------------------------------------------------------------------


def wait_until(condition: Any, seconds: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def log_warnings(log: Path) -> dict[str, int]:
    """Warning and error events in the workers' JSON logs (and lines that are not JSON: tracebacks)."""
    found: Counter[str] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            if line.strip():
                found["(not JSON) " + line.strip()[:80]] += 1
            continue
        if isinstance(entry, dict) and entry.get("level") in ("warning", "error", "critical"):
            found[str(entry.get("event"))] += 1
    return dict(found)


def as_utc(value: Any) -> datetime:
    """A timestamp column read with plain SQL: a datetime (PostgreSQL) or ISO text in UTC (SQLite)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def check(url: str, template: Template, sink: Sink) -> dict[str, Any]:
    """Exactly once, from the database's side and the sink's."""
    from sqlalchemy import text

    engine = engine_for(url)
    try:
        async with engine.connect() as connection:

            async def one(sql: str) -> Any:
                return (await connection.execute(text(sql))).scalar_one()

            first, last = template.user_ids[0], template.user_ids[-1]
            reminders = await one("SELECT count(*) FROM reminders")
            reminded = await one(
                f"SELECT count(DISTINCT user_id) FROM reminders WHERE user_id BETWEEN {first} AND {last}"
            )
            twice = await one(
                "SELECT count(*) FROM (SELECT user_id FROM reminders GROUP BY user_id HAVING count(*) > 1) t"
            )
            outbox_ids = set((await connection.execute(text("SELECT id FROM outbox_messages"))).scalars())
            unsent = await one("SELECT count(*) FROM outbox_messages WHERE sent_at IS NULL")
            refused = await one("SELECT count(*) FROM outbox_messages WHERE error IS NOT NULL")
            jobs = (
                await connection.execute(
                    text(
                        "SELECT kind, state, count(*), sum(attempts), max(attempts) FROM jobs GROUP BY kind, state "
                        "ORDER BY kind, state"
                    )
                )
            ).all()
            deliveries = (
                await connection.execute(text("SELECT id, worker, payload FROM jobs WHERE kind = 'mail.deliver'"))
            ).all()
            retried = (await connection.execute(text("SELECT id, attempts FROM jobs WHERE attempts > 1"))).all()
            composed = (
                await connection.execute(text("SELECT started_at, finished_at FROM jobs WHERE kind = 'reminders.send'"))
            ).all()
    finally:
        await engine.dispose()
    with sink.lock:
        received, distinct, arrivals = list(sink.ids), set(sink.distinct), list(zip(sink.ids, sink.times, strict=True))
    by_worker: Counter[str] = Counter()
    job_of: dict[int, int] = {}
    for job_id, worker, payload in deliveries:
        payload = json.loads(payload) if isinstance(payload, str) else payload
        by_worker[str(worker).split(":")[1] if worker else "none"] += len(payload.get("message_ids", []))
        job_of.update((int(message), job_id) for message in payload.get("message_ids", []))
    duplicated = sorted(i for i, n in Counter(received).items() if n > 1)
    compose_s = composed_at = None
    if len(composed) == 1 and composed[0][0] and composed[0][1]:
        started, finished = (as_utc(v) for v in composed[0])
        compose_s, composed_at = round((finished - started).total_seconds(), 1), finished.timestamp()
    employees = len(template.user_ids)
    return {
        "reminder_rows": reminders,
        "employees_reminded": reminded,
        "employees_with_2_or_more_reminders": twice,
        "exactly_one_reminder_each": reminders == employees and reminded == employees and twice == 0,
        "outbox_messages": len(outbox_ids),
        "outbox_unsent": unsent,
        "outbox_refused": refused,
        "received_total": len(received),
        "received_distinct": len(distinct),
        "duplicates": len(received) - len(distinct),
        "duplicated_ids": duplicated[:20],
        "duplicates_by_delivery_job": dict(Counter(str(job_of.get(i)) for i in duplicated)),
        # When each copy of a duplicated mail arrived (seconds since the epoch): which attempt sent it, and when.
        "duplicate_arrivals": {
            str(i): [round(t, 3) for outbox_id, t in arrivals if outbox_id == i] for i in duplicated[:20]
        },
        "missing_at_sink": len(outbox_ids - distinct),
        "unknown_at_sink": len(distinct - outbox_ids),
        "unparsed_at_sink": sink.unparsed,
        "jobs": [
            {"kind": k, "state": s, "count": c, "attempts": int(a or 0), "max_attempts": m} for k, s, c, a, m in jobs
        ],
        "jobs_with_more_than_one_attempt": {str(job_id): attempts for job_id, attempts in retried},
        "mails_by_last_claimer_pid": dict(by_worker),
        "reminders_send_job_s": compose_s,
        "reminders_send_finished_at": composed_at,
    }


def rate(count: int, seconds: float) -> float | None:
    return round(count / seconds, 1) if seconds > 0 and count > 1 else None


def run_scenario(
    label: str, template: Template, sink: Sink, args: argparse.Namespace, workdir: Path, processes: Processes
) -> dict[str, Any]:
    """One 督促 on a fresh copy: the request, then the workers of the scenario, then the checks."""
    db = template.db
    employees = len(template.user_ids)
    url, name = clone(template, f"{db}_{label}", workdir)
    log = OUT / f"jobs-{db}-{label}.log"
    log.write_bytes(b"")
    result: dict[str, Any] = {"db": db, "scenario": label, "employees": employees}
    try:
        server, base = start_server(processes, url, sink, OUT / f"jobs-{db}-{label}-server.log")
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                warm_up(client, template.admin_cookie)
                result["request_ms"], response = remind(client, template.admin_cookie)
                result["request_ms"] = round(result["request_ms"], 1)
                result["redirect"] = response.headers["location"]
        finally:
            stop(server)
        queued = run_async(scalar(url, UNFINISHED_JOBS))
        assert queued == 1, f"expected exactly one job after the request, found {queued}"

        sink.reset()
        workers = 2 if label == "two" else 1
        result["load_average_before"] = round(os.getloadavg()[0], 2)
        started, own_cpu, machine = time.time(), time.process_time(), cpu_ticks()
        running = [start_worker(processes, url, sink, log, args) for _ in range(workers)]
        cpu: dict[str, float | None] = {}
        if label == "kill":
            kill_at = int(employees * args.kill_at)
            if not wait_until(lambda: sink.counts()[0] >= kill_at, args.timeout):
                raise RuntimeError(f"{label}: only {sink.counts()} mails before the timeout; see {log}")
            cpu["killed"] = cpu_seconds(running[0].pid)
            running[0].send_signal(signal.SIGKILL)
            running[0].wait(timeout=10)
            killed_at = time.time()
            result["at_kill"] = dict(zip(("distinct", "total"), sink.counts(), strict=True))
            running = [start_worker(processes, url, sink, log, args)]
        if not wait_until(lambda: sink.counts()[0] >= employees, args.timeout, 0.1):
            raise RuntimeError(f"{label}: {sink.counts()} mails before the timeout (of {employees}); see {log}")
        all_arrived, machine_end = time.time(), cpu_ticks()
        finished = wait_until(lambda: run_async(scalar(url, UNFINISHED_JOBS)) == 0, 120, 0.5)
        time.sleep(args.settle)  # a mail sent twice would arrive now
        for index, process in enumerate(running):
            cpu[f"worker{index + 1}"] = cpu_seconds(process.pid)
        result["exit_codes"] = [stop(process) for process in running]
        result["jobs_all_finished"] = finished

        with sink.lock:
            times = sorted(sink.times)
        result["wall_s"] = round(all_arrived - started, 1)
        result["first_mail_s"] = round(times[0] - started, 1)
        result["mails_per_s"] = rate(len(times), times[-1] - times[0])
        bucket = args.timeline_seconds
        timeline = Counter(int((t - started) // bucket) for t in times)
        result["timeline"] = {"seconds": bucket, "mails": [timeline.get(i, 0) for i in range(max(timeline) + 1)]}
        if label == "kill":
            before = [t for t in times if t <= killed_at]
            after = [t for t in times if t > killed_at]
            result["first_worker_mails_per_s"] = rate(len(before), before[-1] - before[0]) if before else None
            result["takeover_s"] = round(after[0] - killed_at, 1) if after else None
            result["second_worker_mails_per_s"] = rate(len(after), after[-1] - after[0]) if after else None
            result["second_worker_mails"] = len(after)
        result["worker_cpu_s"] = {k: round(v, 1) if v is not None else None for k, v in cpu.items()}
        result["sink_process_cpu_s"] = round(time.process_time() - own_cpu, 1)  # this process: sink and polling
        busy, total = (now - then for now, then in zip(machine_end, machine, strict=True))
        result["machine_cpu_busy_percent"] = round(100 * busy / total, 1) if total else None
        result.update(run_async(check(url, template, sink)))
        composed_at = result.pop("reminders_send_finished_at")
        if composed_at and label != "kill":  # delivery alone, once every outbox message had been written
            later = [t for t in times if t > composed_at]
            result["mails_per_s_after_compose"] = rate(len(later), later[-1] - composed_at) if later else None
        result["log_warnings"] = log_warnings(log)
        result["ok"] = bool(
            result["exactly_one_reminder_each"]
            and result["outbox_unsent"] == 0
            and result["missing_at_sink"] == 0
            and result["received_distinct"] == employees
            and finished
        )
        return result
    finally:
        drop(db, name)


def request_latency(
    template: Template, sink: Sink, count: int, workdir: Path, processes: Processes
) -> dict[str, Any] | None:
    """Extra requests on a throwaway copy (many reminder jobs there, no worker): the request's median and tail."""
    if count <= 0:
        return None
    url, name = clone(template, f"{template.db}_latency", workdir)
    try:
        server, base = start_server(processes, url, sink, OUT / f"jobs-{template.db}-latency-server.log")
        try:
            with httpx.Client(base_url=base, timeout=60) as client:
                warm_up(client, template.admin_cookie)
                samples = sorted(remind(client, template.admin_cookie)[0] for _ in range(count))
        finally:
            stop(server)
    finally:
        drop(template.db, name)
    return {
        "n": count,
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, int(0.95 * len(samples)) - 1)], 1),
        "max_ms": round(samples[-1], 1),
    }


# --- report -------------------------------------------------------------------------------------------------


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| db | scenario | request ms | wall s | first mail s | mails/s | received (distinct / total / dup) "
        "| reminders = 1 each | unsent | jobs | ok |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['db']} | {r['scenario']} | error: {r['error'][:80]} |||||||||")
            continue
        speed = f"{r['mails_per_s']} ({r.get('mails_per_s_after_compose')} after compose)"
        if r["scenario"] == "kill":
            speed = f"{r['first_worker_mails_per_s']} → {r['second_worker_mails_per_s']} (takeover {r['takeover_s']} s)"
        jobs = ", ".join(
            f"{j['kind']} {j['state']} ×{j['count']} (att {j['attempts']})"
            for j in r["jobs"]
            if j["kind"] != "standing.recompute"
        )
        lines.append(
            f"| {r['db']} | {r['scenario']} | {r['request_ms']} | {r['wall_s']} | {r['first_mail_s']} | {speed} "
            f"| {r['received_distinct']} / {r['received_total']} / {r['duplicates']} "
            f"| {r['exactly_one_reminder_each']} | {r['outbox_unsent']} | {jobs} | {r['ok']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=20_000)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--smtp-delay-ms", type=float, default=0.0, help="artificial delay per mail in the sink")
    parser.add_argument("--scenarios", nargs="+", default=["clean", "kill", "two"], choices=["clean", "kill", "two"])
    parser.add_argument("--two-workers-db", nargs="+", default=["postgres"], choices=["sqlite", "postgres"])
    parser.add_argument("--concurrency", type=int, default=4, help="jobs per worker (lms worker --concurrency)")
    parser.add_argument("--lease-seconds", type=int, default=10, help="LMS_JOB_LEASE_SECONDS for the workers")
    parser.add_argument("--kill-at", type=float, default=0.4, help="SIGKILL the worker at this share of the mails")
    parser.add_argument("--latency-requests", type=int, default=20, help="extra timed requests on a throwaway copy")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait for late duplicates")
    parser.add_argument("--timeline-seconds", type=float, default=10.0, help="width of the mails-over-time buckets")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for all mails")
    args = parser.parse_args()
    if os.environ.get("LMS_ENV", "").strip().lower() == "production":
        raise SystemExit("LMS_ENV=production: the job benchmark does not run against a production set-up.")
    refuse_production(PG_ADMIN)

    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="lms-bench-jobs-"))
    processes = Processes()
    sink = Sink(args.smtp_delay_ms)
    sink.controller.start()
    report: dict[str, Any] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "settings": {k: v for k, v in vars(args).items()},
        "templates": {},
        "latency": {},
        "results": [],
    }
    templates: list[Template] = []
    try:
        for db in args.db:
            print(f"[{db}] template: migrations, course, {args.employees:,} overdue employees", flush=True)
            template = make_template(db, args.employees, workdir)
            templates.append(template)
            report["templates"][db] = {"seconds": template.seconds}
            latency = request_latency(template, sink, args.latency_requests, workdir, processes)
            report["latency"][db] = latency
            print(f"[{db}] POST /dashboard/remind on a throwaway copy: {latency}", flush=True)
            for label in args.scenarios:
                if label == "two" and db not in args.two_workers_db:
                    continue
                print(f"[{db}] scenario {label} …", flush=True)
                try:
                    result = run_scenario(label, template, sink, args, workdir, processes)
                except Exception as error:  # record it, and go on with the next scenario
                    result = {"db": db, "scenario": label, "error": f"{type(error).__name__}: {error}"}
                finally:
                    processes.stop_all()
                report["results"].append(result)
                print(json.dumps(result, ensure_ascii=False), flush=True)
            drop(db, template.name)
        (OUT / "jobs.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))
        print()
        print(table(report["results"]))
        print(f"\nresults: {OUT / 'jobs.json'}, worker logs: {OUT}/jobs-*.log")
    finally:
        processes.stop_all()
        sink.controller.stop()
        for template in templates:
            drop(template.db, template.name)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
