"""Japanese is the source language; English is one catalog away."""

import httpx
from babel.messages.pofile import read_po
from bs4 import BeautifulSoup

from app.core.config import Environment, Settings
from app.core.templating import LOCALE_DIR
from app.main import create_app


def test_english_catalog_translates_every_ui_string() -> None:
    with (LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    with (LOCALE_DIR / "messages.pot").open("rb") as handle:
        template = read_po(handle)
    assert {m.id for m in template if m.id} == {m.id for m in catalog if m.id}, "run `make i18n`"
    assert [m.id for m in catalog if m.id and not m.string] == []


async def test_pages_render_in_english_with_lms_locale_en(test_settings: Settings) -> None:
    settings = test_settings.model_copy(update={"locale": "en", "env": Environment.TEST})
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        page = await client.get("/login")
    await app.state.engine.dispose()
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.html["lang"] == "en"
    assert soup.h1.get_text() == "Sign in"
