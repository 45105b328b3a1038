"""A real server process on a free port, with its own SQLite database, real content and demo data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server_process import app_server, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} not found: install Debian's chromium package to run browser tests"
    if os.environ.get("LMS_REQUIRE_E2E") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


# The served database, for a test that must let time pass (a reading time) without waiting for it.
LIVE_DATABASE: dict[str, Path] = {}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _require_chromium()
    workdir = tmp_path_factory.mktemp("e2e")
    LIVE_DATABASE["path"] = workdir / "e2e.sqlite3"
    env = {
        **os.environ,
        "LMS_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'e2e.sqlite3'}",
        "LMS_SECRET_KEY": "e" * 48,
        "LMS_ENV": "development",
    }
    env.pop("LMS_TEST_DATABASE_URL", None)
    port = free_port()
    env["LMS_BASE_URL"] = f"http://127.0.0.1:{port}"  # links in mails and printed slips point at this server
    lms = [sys.executable, "-m", "app.cli"]
    for command in (["db", "upgrade"], ["content", "import", "content/kasuhara-basics"], ["demo"]):
        subprocess.run(lms + command, cwd=ROOT, env=env, check=True, capture_output=True)
    try:
        with app_server(env, port=port, log=workdir / "server.log"):
            yield f"http://127.0.0.1:{port}"
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(live_server: str) -> Iterator:
    """Module-scoped: Playwright's own event loop must be gone before pytest-asyncio runs the next test."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
