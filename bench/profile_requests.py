"""Profile one kind of request in-process with pyinstrument: where does a lesson page or a submission spend its time?

    python bench/profile_requests.py lesson --db-url sqlite+aiosqlite:///var/bench/load-run.sqlite3 \
        --cookies var/bench/load-sqlite-1000-3000.json --count 300

Uses the same app factory as the server, driven through httpx's ASGI transport, so the profile shows the
application's own work (no sockets, no HTTP parsing). Writes an HTML report to var/bench/profile-<kind>.html.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.driver import answer_form
from bench.load import LESSON, SECRET


async def main(kind: str, url: str, meta: dict, count: int) -> None:
    os.environ.update(LMS_DATABASE_URL=url, LMS_SECRET_KEY=SECRET, LMS_LOG_LEVEL="info")
    from pyinstrument import Profiler

    from app.main import create_app

    app = create_app()
    transport = httpx.ASGITransport(app=app)
    name = meta["cookie_name"]
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:

        def headers(i: int) -> dict[str, str]:
            return {"Cookie": f"{name}={meta['cookies'][i]}"}

        sheets = []
        if kind == "submit":
            quiz = meta["quizzes"]["what-is-kasuhara"]
            for i in range(count + 20):
                started = await client.post(f"/quizzes/{quiz}/attempts", headers=headers(i))
                page = await client.get(started.headers["location"], headers=headers(i))
                sheets.append((i, started.headers["location"], answer_form(page.text)))

        async def one(i: int) -> None:
            if kind == "lesson":
                response = await client.get(LESSON, headers=headers(i % 500))
                assert response.status_code == 200, response.status_code
            else:
                who, location, form = sheets[i]
                response = await client.post(
                    location + "/submit",
                    content=urlencode(form),
                    headers={**headers(who), "Content-Type": "application/x-www-form-urlencoded"},
                )
                assert response.status_code == 303, response.text[:500]

        for i in range(20):
            await one(i)
        if kind == "lesson":  # every learner has been here before: the profile is of repeat visits
            for i in range(500):
                await client.get(LESSON, headers=headers(i))
        profiler = Profiler(interval=0.0005, async_mode="enabled")
        started = time.perf_counter()
        with profiler:
            for i in range(20, 20 + count):
                await one(i)
        elapsed = time.perf_counter() - started
    print(f"{kind}: {count} requests, {1000 * elapsed / count:.2f} ms each (in-process, under the profiler)")
    out = Path("var/bench") / f"profile-{kind}.html"
    out.write_text(profiler.output_html())
    print(profiler.output_text(unicode=True, color=False, show_all=False)[:12000])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["lesson", "submit"])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--cookies", type=Path, required=True)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.kind, args.db_url, json.loads(args.cookies.read_text()), args.count))
