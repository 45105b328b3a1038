"""SQL statements per request on the hot paths, counted in-process: a signed-in lesson page (a repeat view), one
answer's autosave, and a submission, for a demo learner.

    LMS_DATABASE_URL=sqlite+aiosqlite:///var/stmt.sqlite3 lms db upgrade && lms content import content/kasuhara-basics \
        && lms demo && LMS_DATABASE_URL=sqlite+aiosqlite:///var/stmt.sqlite3 python bench/statements.py [--verbose]

The database must hold the basic course and the demo organisation (employee05@example.com / demo-password).
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import httpx
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


async def main() -> None:
    from app.main import create_app

    app = create_app()
    counts = {"n": 0}
    verbose = "--verbose" in sys.argv

    def count(_conn, _cursor, statement: str, _params, _context, executemany: bool) -> None:
        counts["n"] += 1
        if verbose:
            print("    " + " ".join(statement.split())[:140] + (" (executemany)" if executemany else ""))

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        r = await c.post("/login", data={"email": "employee05@example.com", "password": "demo-password", "next": "/my"})
        lesson = "/courses/kasuhara-basics/lessons/what-is-kasuhara"
        await c.get(lesson)

        def measure(label: str, before: int) -> None:
            print(f"{label}: {counts['n'] - before} statements")

        n0 = counts["n"]
        r = await c.get(lesson)
        assert r.status_code == 200
        measure("lesson page (repeat view)", n0)
        r = await c.get("/courses/kasuhara-basics/lessons/what-is-kasuhara/test")
        qid = re.search(r'action="/quizzes/(\d+)/attempts"', r.text).group(1)
        r = await c.post(f"/quizzes/{qid}/attempts")
        att = r.headers["location"]
        page = (await c.get(att)).text
        fields = re.findall(r'name="(q\.([^.]+)\.answer)" value="([^"]*)"', page)
        name, q, value = next(f for f in fields if f[2])
        n0 = counts["n"]
        r = await c.post(f"{att}/answers/{q}", data={name: value})
        assert r.status_code == 200, r.text
        measure("autosave", n0)
        form = {"blanks": "confirmed"}  # ordering questions stay blank here: submit anyway
        for field_name, _question, field_value in fields:
            if field_value:
                form.setdefault(field_name, field_value)
        n0 = counts["n"]
        r = await c.post(f"{att}/submit", data=form)
        assert r.status_code == 303
        measure("submission", n0)


if __name__ == "__main__":
    asyncio.run(main())
