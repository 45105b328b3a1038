"""PostgreSQL stops under load and starts again: meanwhile every request gets a clean 503 (the error page with its
request id, JSON under /api/), the server process stays up, it recovers by itself, and it never acknowledges a
submission that the database did not keep.

A private cluster (initdb into a temporary directory, its own port) so that stopping it disturbs no one; the real
app as a uvicorn process; learners signing in, starting and submitting tests over HTTP at the same time.
Runs in the PostgreSQL pass (LMS_TEST_DATABASE_URL set, `-m db`); skipped, saying why, without the PostgreSQL
server binaries, unless LMS_REQUIRE_PG_OUTAGE=1 (which also runs it outside the PostgreSQL pass).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from app.assignments import service as assignment_service
from app.auth import service as auth_service
from app.auth.models import Role
from app.content import service as content_service
from app.core.config import Environment, Settings
from app.core.db import is_unavailable, make_engine, make_sessionmaker
from app.core.handlers import DEFAULT_MESSAGES
from app.org.scope import EVERYTHING
from app.quiz import service as quiz_service
from tests.conftest import PASSWORD
from tests.server_process import app_server, free_port

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = os.environ.get("LMS_REQUIRE_PG_OUTAGE") == "1"
LEARNERS = 6
UNAVAILABLE = DEFAULT_MESSAGES[503]
# What a 503 must never show: a traceback, the driver, or the SQL it was running.
LEAKS = re.compile(r"Traceback|sqlalchemy|asyncpg|psycopg|postgres|SELECT |INSERT |UPDATE |\[SQL", re.IGNORECASE)


def _skip_or_fail(reason: str) -> NoReturn:
    if REQUIRED:
        pytest.fail(reason)
    pytest.skip(reason)


def _postgres_bindir() -> Path:
    """The newest /usr/lib/postgresql/<n>/bin (Debian), else wherever initdb is on the PATH."""
    installed = [path for path in Path("/usr/lib/postgresql").glob("*/bin/initdb") if path.parts[-3].isdigit()]
    installed.sort(key=lambda path: int(path.parts[-3]), reverse=True)
    initdb = installed[0] if installed else Path(shutil.which("initdb") or "/nonexistent")
    if not (initdb.exists() and (initdb.parent / "pg_ctl").exists()):
        _skip_or_fail("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's postgresql package")
    if os.geteuid() == 0:  # initdb refuses to run as root
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _skip_or_fail("running as root and there is no postgres OS user to run the private cluster")
    return initdb.parent


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster of our own, run by the postgres OS user when the tests run as root."""

    bindir: Path
    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 or not check, f"{program} failed:\n{done.stdout}\n{done.stderr}"

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.directory / "data"),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl",
            "-D",
            str(self.directory / "data"),
            "-l",
            str(self.directory / "postgres.log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self, mode: str = "fast", *, check: bool = True) -> None:
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", mode, "-w", "-t", "30", "stop", check=check)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if not REQUIRED and not os.environ.get("LMS_TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip(
            "runs in the PostgreSQL pass (LMS_TEST_DATABASE_URL=postgresql+asyncpg://…) or with LMS_REQUIRE_PG_OUTAGE=1"
        )
    bindir = _postgres_bindir()
    # Not under pytest's tmp_path: its parents are private to root, and the postgres user must reach the directory.
    directory = Path(tempfile.mkdtemp(prefix="lms-pg-outage-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    instance = Cluster(bindir=bindir, directory=directory)
    try:
        instance.init()
        instance.start()
        env = {**os.environ, "LMS_DATABASE_URL": instance.url}
        for command in (["db", "upgrade"], ["content", "import", "content/kasuhara-basics"]):
            subprocess.run(
                [sys.executable, "-m", "app.cli", *command],
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                timeout=120,
            )
        yield instance
    finally:
        instance.stop("immediate", check=False)
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="module")
def server(cluster: Cluster) -> Iterator[Server]:
    """The real app, as in production, against the private cluster."""
    env = {
        **os.environ,
        "LMS_DATABASE_URL": cluster.url,
        "LMS_SECRET_KEY": "o" * 48,
        "LMS_ENV": "production",
        "LMS_LOG_LEVEL": "warning",
    }
    env.pop("LMS_TEST_DATABASE_URL", None)
    port = free_port()
    log = cluster.directory / "server.log"
    with app_server(env, port=port, log=log, tries=150) as process:
        yield Server(base_url=f"http://127.0.0.1:{port}", process=process, log=log)


async def _seed_learners(url: str, count: int) -> tuple[list[str], list[int]]:
    """Learners assigned the course, and the ids of its tests (four lessons' and the final test)."""
    engine = make_engine(Settings(env=Environment.TEST, database_url=url, secret_key="s" * 48))
    async with make_sessionmaker(engine)() as session:
        course, version = await content_service.get_course(session, slug="kasuhara-basics")
        emails = [f"learner{n}@example.com" for n in range(count)]
        for email in emails:
            user = await auth_service.create_user(
                session, email=email, password=PASSWORD, display_name="受講 太郎", role=Role.LEARNER
            )
            await assignment_service.assign(
                session, course_id=course.id, scope=EVERYTHING, created_by=None, due_at=None, user_id=user.id
            )
        quizzes = await quiz_service.quizzes_of_version(session, version_id=version.id)
        await session.commit()
    await engine.dispose()
    return emails, sorted(quiz.id for quiz in quizzes.values())


def _attempt_of(response: httpx.Response) -> int | None:
    """The attempt a start or a submission redirected to: the server's acknowledgement."""
    match = re.fullmatch(r"/attempts/(\d+)", response.headers.get("location", ""))
    return int(match.group(1)) if response.status_code == 303 and match else None


@dataclass
class Ledger:
    """What the learners were told: which submissions were acknowledged and when, every status, every problem."""

    acknowledged: dict[int, float] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def check(self, response: httpx.Response) -> httpx.Response:
        self.statuses[response.status_code] += 1
        if response.status_code == 503:
            self.problems.extend(unavailable_page_problems(response))
        elif response.status_code not in (200, 303):
            self.problems.append(f"{response.request.method} {response.request.url.path}: {response.status_code}")
        return response


def unavailable_page_problems(response: httpx.Response) -> list[str]:
    """A clean 503: the Japanese message and the request id (HTML page, HTMX fragment or JSON), nothing else."""
    where = f"{response.request.method} {response.request.url.path}"
    request_id = response.headers.get("x-request-id", "")
    problems = [f"{where}: leaks {LEAKS.search(response.text).group(0)!r}"] if LEAKS.search(response.text) else []
    if response.request.url.path.startswith("/api/"):
        if response.json() != {"detail": UNAVAILABLE, "request_id": request_id}:
            problems.append(f"{where}: JSON {response.text[:200]}")
        return problems
    soup = BeautifulSoup(response.text, "html.parser")
    alert, code = soup.select_one("[role=alert]"), soup.select_one(".request-id code")
    if not response.headers.get("content-type", "").startswith("text/html"):
        problems.append(f"{where}: content type {response.headers.get('content-type')}")
    if alert is None or alert.get_text(strip=True) != UNAVAILABLE or code is None or code.text != request_id:
        problems.append(f"{where}: not the 503 page: {response.text[:200]}")
    if (soup.find("html") is None) != (response.request.headers.get("hx-request") == "true"):
        problems.append(f"{where}: a page for HTMX or a fragment for a browser")
    return problems


async def _learner(client: httpx.AsyncClient, quiz_ids: list[int], ledger: Ledger, stop: asyncio.Event) -> None:
    """Start each test and submit it, over and over; pause a little after a refusal, as a person would."""
    while not stop.is_set():
        for quiz_id in quiz_ids:
            try:
                attempt_id = _attempt_of(ledger.check(await client.post(f"/quizzes/{quiz_id}/attempts")))
                if attempt_id is not None:
                    submitted = ledger.check(
                        await client.post(f"/attempts/{attempt_id}/submit", data={"blanks": "confirmed"})
                    )
                    if _attempt_of(submitted) == attempt_id:
                        ledger.acknowledged[attempt_id] = time.monotonic()
                        continue
            except httpx.TransportError as error:  # the server should never drop a request
                ledger.problems.append(f"{type(error).__name__} from the server")
            await asyncio.sleep(0.2)


async def _signed_in(base_url: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=30)
    response = await client.post("/login", data={"email": email, "password": PASSWORD, "next": "/my"})
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
async def learners(server: Server, cluster: Cluster) -> AsyncIterator[tuple[list[httpx.AsyncClient], list[int]]]:
    emails, quiz_ids = await _seed_learners(cluster.url, LEARNERS + 1)
    clients = list(await asyncio.gather(*(_signed_in(server.base_url, email) for email in emails)))
    yield clients, quiz_ids
    for client in clients:
        await client.aclose()


async def _slow_commit(url: str, attempt_id: int) -> None:
    """Make committing this attempt's submission take 30 s (a deferred trigger sleeps at COMMIT), so the outage
    surely begins while the request that submits it is committing."""
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$"
            )
        )
        await connection.execute(
            text(
                "CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON attempts DEFERRABLE INITIALLY DEFERRED "
                f"FOR EACH ROW WHEN (NEW.id = {attempt_id} AND OLD.submitted_at IS NULL "
                "AND NEW.submitted_at IS NOT NULL) EXECUTE FUNCTION slow_commit()"
            )
        )
    await engine.dispose()


async def _outage_probes(base_url: str, client: httpx.AsyncClient, ledger: Ledger) -> int:
    """A page, an HTMX fragment, the JSON API, a sign-in and the health check, all while the database is down."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as anonymous:
        probes = [
            await client.get("/my"),
            await client.get("/my", headers={"HX-Request": "true"}),
            await anonymous.get("/api/v1/courses", headers={"Authorization": "Bearer lms_not-a-token"}),
            await anonymous.post("/login", data={"email": "learner0@example.com", "password": PASSWORD}),
        ]
        health = await anonymous.get("/healthz")
    for response in probes:
        assert response.status_code == 503, f"{response.request.url.path}: {response.status_code}"
        ledger.check(response)
    assert health.status_code == 503 and health.json()["status"] == "unavailable"
    return len(probes)


async def test_an_outage_under_load_is_answered_with_503_and_loses_no_acknowledged_submission(
    server: Server, cluster: Cluster, learners: tuple[list[httpx.AsyncClient], list[int]]
) -> None:
    clients, quiz_ids = learners
    slow, crowd = clients[0], clients[1:]
    ledger, stop = Ledger(), asyncio.Event()
    load = [asyncio.create_task(_learner(client, quiz_ids, ledger, stop)) for client in crowd]
    try:
        report = await _outage(server, cluster, slow, crowd, quiz_ids, ledger)
        stop.set()
        await asyncio.gather(*load)
    finally:
        stop.set()
        for task in load:
            task.cancel()

    engine = create_async_engine(cluster.url)
    async with engine.connect() as connection:
        stored = set((await connection.scalars(text("SELECT id FROM attempts WHERE submitted_at IS NOT NULL"))).all())
    await engine.dispose()
    acknowledged = set(ledger.acknowledged)
    before = {attempt for attempt, at in ledger.acknowledged.items() if at < report.stopped_at}
    print(
        f"\n{len(before)} submissions acknowledged before the outage, {len(acknowledged)} in all, {len(stored)} "
        f"stored; {ledger.statuses[503]} answers 503; recovered {report.recovered_after:.2f} s after the restart"
    )
    assert before <= stored, f"acknowledged before the outage but not stored: {sorted(before - stored)}"
    assert acknowledged <= stored, f"acknowledged but not stored: {sorted(acknowledged - stored)}"
    assert report.slow_attempt not in stored  # its commit was cut off, and the learner was told so
    assert not ledger.problems, ledger.problems[:10]
    assert ledger.statuses[503] > report.probes
    assert len(acknowledged) > report.acknowledged_until_recovery, "nothing acknowledged after the recovery"
    assert server.process.poll() is None, "the server process died"
    log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]


@dataclass
class OutageReport:
    slow_attempt: int
    stopped_at: float
    recovered_after: float
    acknowledged_until_recovery: int
    probes: int


async def _outage(
    server: Server,
    cluster: Cluster,
    slow: httpx.AsyncClient,
    crowd: list[httpx.AsyncClient],
    quiz_ids: list[int],
    ledger: Ledger,
) -> OutageReport:
    """Load, then the database stops (mid-commit for one submission) and starts again; the learners keep going."""
    await asyncio.sleep(3)
    assert len(ledger.acknowledged) >= 10, ledger

    # One submission is committing, and a double click of it waits for its row lock, when the database stops.
    slow_attempt = _attempt_of(ledger.check(await slow.post(f"/quizzes/{quiz_ids[0]}/attempts")))
    assert slow_attempt is not None
    await _slow_commit(cluster.url, slow_attempt)
    committing = asyncio.create_task(slow.post(f"/attempts/{slow_attempt}/submit", data={"blanks": "confirmed"}))
    await asyncio.sleep(0.5)
    double_click = asyncio.create_task(slow.post(f"/attempts/{slow_attempt}/submit", data={"blanks": "confirmed"}))
    await asyncio.sleep(0.5)
    stopped_at = time.monotonic()
    await asyncio.to_thread(cluster.stop)

    probes = await _outage_probes(server.base_url, crowd[0], ledger)
    await asyncio.sleep(2)  # the learners keep trying
    committed, clicked_again = await asyncio.gather(committing, double_click)
    # A 303 here was sent before the COMMIT it acknowledges: the request's session must commit before the
    # response goes out (FastAPI runs a yield dependency's exit after sending unless it has scope="function").
    assert committed.status_code == 503, f"acknowledged before its commit: {committed.status_code}"
    assert clicked_again.status_code == 503, f"{clicked_again.status_code}\n{server.log.read_text()[-3000:]}"
    ledger.check(committed)
    ledger.check(clicked_again)
    assert server.process.poll() is None, "the server process died"

    await asyncio.to_thread(cluster.start)
    started_at = time.monotonic()
    while (page := await crowd[0].get("/my")).status_code != 200:
        assert time.monotonic() - started_at < 5, f"not recovered 5 s after the database came back: {page.status_code}"
        ledger.check(page)
        await asyncio.sleep(0.1)
    recovered_after = time.monotonic() - started_at
    acknowledged_until_recovery = len(ledger.acknowledged)
    await asyncio.sleep(2)
    return OutageReport(
        slow_attempt=slow_attempt,
        stopped_at=stopped_at,
        recovered_after=recovered_after,
        acknowledged_until_recovery=acknowledged_until_recovery,
        probes=probes,
    )


@pytest.mark.parametrize(
    "error",
    [ConnectionRefusedError(111, "Connect call failed"), ConnectionResetError(), TimeoutError()],
    ids=["refused", "reset", "timeout"],
)
def test_network_failures_count_as_unavailable(error: OSError) -> None:
    assert is_unavailable(error)


def test_sqlstates_of_an_unavailable_server_count_as_unavailable() -> None:
    import asyncpg

    errors = asyncpg.exceptions
    for down in (
        errors.AdminShutdownError,
        errors.CannotConnectNowError,
        errors.ConnectionDoesNotExistError,
        errors.TooManyConnectionsError,
    ):
        assert is_unavailable(down("down")), down
    for wrong in (errors.UniqueViolationError, errors.UndefinedTableError, errors.DataError):
        assert not is_unavailable(wrong("bad query")), wrong


async def test_a_refused_connection_is_an_operational_error() -> None:
    """asyncpg raises a bare ConnectionRefusedError, which SQLAlchemy would pass through unwrapped (a 500)."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/nothing"
    engine = make_engine(Settings(env=Environment.TEST, database_url=url, secret_key="s" * 48))
    with pytest.raises(OperationalError):
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    await engine.dispose()
