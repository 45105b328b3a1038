"""A real server process on a free port, with its own SQLite database, real content and demo data."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} not found: install Debian's chromium package to run browser tests"
    if os.environ.get("LMS_REQUIRE_E2E") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_chromium()
    workdir = tmp_path_factory.mktemp("e2e")
    env = {**os.environ, "LMS_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'e2e.sqlite3'}",
           "LMS_SECRET_KEY": "e" * 48, "LMS_ENV": "development"}  # fmt: skip
    env.pop("LMS_TEST_DATABASE_URL", None)
    port = _free_port()
    env["LMS_BASE_URL"] = f"http://127.0.0.1:{port}"  # links in mails and printed slips point at this server
    lms = [sys.executable, "-m", "app.cli"]
    for command in (["db", "upgrade"], ["content", "import", "content/kasuhara-basics"], ["demo"]):
        subprocess.run(lms + command, cwd=ROOT, env=env, check=True, capture_output=True)
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("server did not start: " + (workdir / "server.log").read_text())
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(live_server: str) -> Iterator:
    """Module-scoped: Playwright's own event loop must be gone before pytest-asyncio runs the next test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
