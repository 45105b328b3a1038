"""Jinja2 set-up: every domain's templates folder, gettext through Babel, fragments for HTMX."""

from __future__ import annotations

import gettext
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2_fragments import render_block
from markupsafe import Markup
from starlette.responses import HTMLResponse

from app.core.clock import JAPAN
from app.core.db import utcnow

APP_DIR = Path(__file__).resolve().parents[1]
LOCALE_DIR = APP_DIR / "locale"
DOMAIN_TEMPLATE_DIRS = sorted(path for path in APP_DIR.glob("*/templates") if path.parent.name != "core")
TEMPLATE_DIRS = [APP_DIR / "core" / "templates", *DOMAIN_TEMPLATE_DIRS]
TIMEZONE = JAPAN
HTMX_FILE = next((APP_DIR / "static" / "vendor").glob("htmx-*.min.js")).name


@lru_cache
def translations_for(locale: str) -> gettext.NullTranslations:
    """Japanese is the source language of the templates; other languages come from app/locale/<lang>."""
    po_file = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if locale == "ja" or not po_file.exists():
        return gettext.NullTranslations()
    import io

    with po_file.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def format_datetime(value: datetime | None, fmt: str = "%Y年%m月%d日 %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(TIMEZONE).strftime(fmt)


def format_date(value: datetime | None) -> str:
    return format_datetime(value, "%Y年%m月%d日")


def format_minutes(seconds: int) -> str:
    return f"{seconds // 60}分" if seconds >= 60 else f"{seconds}秒"


@lru_cache
def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(path) for path in TEMPLATE_DIRS]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates are code: a worker serves the ones it started with (`lms serve --reload` restarts on an edit).
        # Checking each file's modification time on every render cost 8 % of the lesson page.
        auto_reload=False,
    )
    env.install_gettext_translations(translations_for(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(datetime=format_datetime, date=format_date, duration=format_minutes)
    env.globals.update(htmx_file=HTMX_FILE, lang=locale)
    return env


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _values(request: Request, context: dict[str, Any] | None) -> dict[str, Any]:
    return {"request": request, "user": getattr(request.state, "user", None), "now": utcnow(), **(context or {})}


def render_fragment(request: Request, template: str, block: str, context: dict[str, Any]) -> Markup:
    """One block of a template as HTML to put in a page (e.g. a part cached while what it shows is unchanged)."""
    env = environment(request.app.state.settings.locale)
    return Markup(render_block(env, template, block, _values(request, context)))


async def render_in_turns(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    between: Callable[[], Awaitable[None]],
    chunk: int = 800,
) -> HTMLResponse:
    """Render a large page in pieces, awaiting `between` after every `chunk` pieces of output, so that a page
    that takes many milliseconds to render does not hold the event loop for all of them in one go."""
    env = environment(request.app.state.settings.locale)
    parts: list[str] = []
    for count, part in enumerate(env.get_template(template).generate(_values(request, context)), start=1):
        parts.append(part)
        if count % chunk == 0:
            await between()
    return HTMLResponse("".join(parts))


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a full page, or only `block` of it (an HTMX fragment) when given."""
    env = environment(request.app.state.settings.locale)
    values = _values(request, context)
    html = render_block(env, template, block, values) if block else env.get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers=headers)
