"""Load generation: open-loop arrivals with httpx, closed-loop ceilings with wrk, and what the server used.

Open loop means requests are sent on a fixed schedule whatever the server does, and each latency is measured
from the moment the request was *due*, not when the client got round to sending it: a closed-loop tool waits
for a slow answer before sending the next request and so hides exactly the tail we care about.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))  # nearest rank
    return ordered[index]


@dataclass
class Sample:
    """Latencies (seconds) and failures of one kind of request in one scenario."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0

    def summary(self) -> dict[str, Any]:
        ms = [v * 1000 for v in self.latencies]
        elapsed = max(self.finished - self.started, 1e-9)
        return {
            "requests": len(ms) + len(self.errors),
            "ok": len(ms),
            "errors": len(self.errors),
            "error_examples": sorted(set(self.errors))[:5],
            "rps": round(len(ms) / elapsed, 1),
            "p50_ms": round(percentile(ms, 50), 1),
            "p95_ms": round(percentile(ms, 95), 1),
            "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1) if ms else None,
        }


class Recorder:
    def __init__(self) -> None:
        self.samples: dict[str, Sample] = {}

    def sample(self, name: str) -> Sample:
        return self.samples.setdefault(name, Sample())

    async def timed(
        self, name: str, due: float, call: Awaitable[httpx.Response], ok: Callable[[httpx.Response], bool]
    ) -> httpx.Response | None:
        sample = self.sample(name)
        sample.started = sample.started or due
        try:
            response = await call
        except httpx.HTTPError as exc:
            sample.errors.append(type(exc).__name__)
            sample.finished = time.perf_counter()
            return None
        now = time.perf_counter()
        sample.finished = max(sample.finished, now)
        if ok(response):
            sample.latencies.append(now - due)
            return response
        sample.errors.append(f"HTTP {response.status_code}")
        return None

    def summary(self) -> dict[str, Any]:
        return {name: sample.summary() for name, sample in self.samples.items()}


async def open_loop(rate: float, count: int, task: Callable[[int, float], Awaitable[None]]) -> float:
    """Start task(i, due) at due = t0 + i / rate for i in range(count), without waiting for earlier ones."""
    t0 = time.perf_counter()
    running: set[asyncio.Task[None]] = set()
    for i in range(count):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        job = asyncio.create_task(task(i, due))
        running.add(job)
        job.add_done_callback(running.discard)
    if running:
        await asyncio.gather(*running)
    return time.perf_counter() - t0


class RssSampler:
    """The largest worker's resident memory, sampled every 100 ms while a scenario runs (the server process
    itself with one worker; its child processes when uvicorn supervises several)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kib, self._task = pid, 0, None

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children")
        found = [int(pid) for pid in children.read_text().split()] if children.exists() else []
        return found or [self.pid]

    def read_kib(self) -> int:
        largest = 0
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    largest = max(largest, int(line.split()[1]))
        return largest

    async def _run(self) -> None:
        while True:
            self.peak_kib = max(self.peak_kib, self.read_kib())
            await asyncio.sleep(0.1)

    def __enter__(self) -> RssSampler:
        self.peak_kib = self.read_kib()
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak_kib = max(self.peak_kib, self.read_kib())

    @property
    def peak_mb(self) -> float:
        return round(self.peak_kib / 1024, 1)


WRK_SCRIPT = """
cookies = {%s}
cookie_name = "%s"
counter = 0
request = function()
  counter = counter + 1
  local headers = {}
  if #cookies > 0 then headers["Cookie"] = cookie_name .. "=" .. cookies[(counter %% #cookies) + 1] end
  return wrk.format("GET", nil, headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %%d, "duration_us": %%d, "errors": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, ' ..
    '"max_us": %%d}\\n', summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: int,
    cookie_name: str = "",
    cookies: list[str] | None = None,
    cpu: int | None = None,
) -> dict[str, Any]:
    """A closed-loop run of wrk (one thread): throughput and latency percentiles, non-2xx/3xx counted as errors."""
    quoted = ", ".join(json.dumps(c) for c in (cookies or []))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % (quoted, cookie_name))
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", script.name, url]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    Path(script.name).unlink()
    found = re.search(r"^RESULT (\{.*\})$", output, re.M)
    if not found:
        raise RuntimeError(f"wrk gave no result:\n{output}")
    raw = json.loads(found.group(1))
    seconds_run = raw["duration_us"] / 1e6
    return {
        "tool": "wrk (closed loop)",
        "connections": connections,
        "requests": raw["requests"],
        "errors": raw["errors"],
        "rps": round((raw["requests"] - raw["errors"]) / seconds_run, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "max_ms": round(raw["max_us"] / 1000, 2),
    }


ANSWER_FIELD = re.compile(r'<(input|select)\b[^>]*?name="(q\.([^".]+)\.(?:answer|position-[^"]+))"[^>]*>', re.S)
VALUE = re.compile(r'value="([^"]*)"')
TYPE = re.compile(r'type="([^"]*)"')


def answer_form(page_html: str) -> list[tuple[str, str]]:
    """A complete answer sheet for an attempt page, as a learner's browser would post it: the first choice of
    every question, and the steps of ordering questions numbered in page order."""
    form: list[tuple[str, str]] = []
    answered: set[str] = set()
    positions: dict[str, int] = {}
    for match in ANSWER_FIELD.finditer(page_html):
        tag, name, question = match.group(1), match.group(2), match.group(3)
        if tag == "select":
            positions[question] = positions.get(question, 0) + 1
            form.append((name, str(positions[question])))
            continue
        kind = TYPE.search(match.group(0))
        if name in answered or (kind and kind.group(1) == "hidden"):
            continue
        answered.add(name)
        value = VALUE.search(match.group(0))
        form.append((name, value.group(1) if value else ""))
    return form
