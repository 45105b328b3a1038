"""The three ceilings every load scenario is compared with, each served by uvicorn exactly like the real app.

- B1 `bare`: a raw ASGI callable returning a constant page (what uvicorn itself can do on one core);
- B2 `constant`: a FastAPI route returning the same constant page (the framework's cost);
- B3 `layout`: a FastAPI route rendering the real page layout (`base.html`) through the app's own Jinja2
  environment around the real Lesson 2 body, with no database and no session (the templating cost).

    uvicorn bench.ceilings:bare      uvicorn bench.ceilings:constant_app --factory      (etc.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from starlette.types import Receive, Scope, Send

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "content" / "kasuhara-basics" / "lessons" / "02-kasuhara-vs-complaint.md"
PAGE = (
    "<!doctype html><html lang=ja><head><meta charset=utf-8><title>B1</title></head><body>"
    + "<p>カスタマーハラスメント対策研修</p>" * 40
    + "</body></html>"
).encode()
LAYOUT = """{% extends "base.html" %}
{% block title %}{{ title }}{% endblock %}
{% block main %}<article class="lesson"><h1>{{ title }}</h1>{{ body | safe }}</article>{% endblock %}
"""


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html; charset=utf-8")]}
    )
    await send({"type": "http.response.body", "body": PAGE})


def constant_app() -> FastAPI:
    app = FastAPI(openapi_url=None)

    @app.get("/")
    async def constant() -> HTMLResponse:
        return HTMLResponse(PAGE)

    return app


def layout_app() -> FastAPI:
    from app.content.markdown import render as render_markdown
    from app.core.templating import environment

    env = environment("ja")
    template = env.from_string(LAYOUT)
    body = render_markdown(LESSON.read_text(encoding="utf-8").split("---", 2)[-1]).html
    app = FastAPI(openapi_url=None)

    @app.get("/")
    async def layout() -> HTMLResponse:
        context: dict[str, Any] = {"title": "カスハラとクレームの違い", "body": body, "user": None}
        return HTMLResponse(template.render(context))

    return app
