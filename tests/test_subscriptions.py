"""Every entry point wires the events it relies on: in a fresh process (where no earlier test has installed the
subscriptions), the command line publishes a course and the benchmark seeder runs; an unhandled event is an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.core import events
from tests.conftest import MINI_COURSE

ROOT = Path(__file__).resolve().parents[1]


def run(env: dict[str, str], module: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_fresh_processes_publish_and_seed(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LMS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}",
        "LMS_ENV": "development",
        "LMS_SECRET_KEY": "s" * 48,
    }
    env.pop("LMS_TEST_DATABASE_URL", None)
    assert run(env, "app.cli", "db", "upgrade").returncode == 0
    published = run(env, "app.cli", "content", "import", str(MINI_COURSE))
    assert published.returncode == 0, published.stderr
    assert "公開しました" in published.stdout
    seeded = run(
        env, "bench.seed", "learners", "--count", "3", "--course", "mini-course", "--out", str(tmp_path / "c.json")
    )
    assert seeded.returncode == 0, seeded.stderr


async def test_an_event_nobody_handles_is_refused() -> None:
    class Unwired:
        pass

    with pytest.raises(LookupError, match="nobody handles Unwired"):
        await events.emit(None, Unwired())  # type: ignore[arg-type]
