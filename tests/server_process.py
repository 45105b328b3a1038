"""The real app as a uvicorn process on a free port, for tests that need a server (browser tests, the outage test)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def app_server(env: dict[str, str], *, port: int, log: Path, tries: int = 100) -> Iterator[subprocess.Popen[bytes]]:
    """Start `app.main:create_app` with `env`, its output in `log`; wait until /healthz answers 200 (tries × 0.1 s),
    and stop it afterwards."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(tries):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("server did not start:\n" + log.read_text())
        yield process
    finally:
        process.terminate()
        process.wait(timeout=10)
