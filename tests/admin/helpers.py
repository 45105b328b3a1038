"""Building real pack archives from tests/fixtures/mini-course, and reading what the admin pages say."""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Iterable, Mapping

import httpx
from bs4 import BeautifulSoup
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.content.models import Asset, CourseVersion, PackFile
from app.content.pack import read_folder
from tests.conftest import MINI_COURSE

RESPONSES_FILE = "lessons/02-responses.md"
RESPONSES_OLD = "    ひとりで抱え込まないでください。"
RESPONSES_NEW = "    ひとりで抱え込まず、必ず上司に報告してください。"
COUNTED = {"course_versions": CourseVersion, "pack_files": PackFile, "assets": Asset, "audit_events": AuditEvent}

Entry = tuple[str | zipfile.ZipInfo, bytes]


def pack_files() -> dict[str, bytes]:
    """The mini course as {path: bytes}, exactly as a pack folder holds it."""
    return read_folder(MINI_COURSE)


def edited(files: Mapping[str, bytes], path: str, old: str, new: str) -> dict[str, bytes]:
    """A copy of the files with the first `old` in `path` replaced by `new` (which must be there)."""
    text = files[path].decode("utf-8")
    assert old in text, f"{old!r} not in {path}"
    return {**files, path: text.replace(old, new, 1).encode("utf-8")}


def revised() -> dict[str, bytes]:
    """The mini course with one line of the responses lesson rewritten; basics and glossary unchanged."""
    return edited(pack_files(), RESPONSES_FILE, RESPONSES_OLD, RESPONSES_NEW)


def revised_lesson() -> str:
    """The responses lesson as revised() has it, as the text an admin would type into the editor."""
    return revised()[RESPONSES_FILE].decode("utf-8")


def make_zip(entries: Mapping[str, bytes] | Iterable[Entry], *, folder: str = "") -> bytes:
    """A real .zip of the entries (ZipInfo entries keep their names and modes as given), optionally in a folder."""
    items = list(entries.items()) if isinstance(entries, Mapping) else list(entries)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate names one test needs
        for name, content in items:
            if isinstance(name, str):
                name = folder + name
            archive.writestr(name, content)
    return buffer.getvalue()


def zip_entry(name: str, *, mode: int | None = None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("placeholder")
    info.filename = name  # set after construction, so that zipfile keeps the name exactly as written
    info.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        info.external_attr = mode << 16
    return info


async def upload(client: httpx.AsyncClient, data: bytes, *, note: str = "") -> httpx.Response:
    return await client.post(
        "/admin/content/upload", files={"pack": ("mini-course.zip", data, "application/zip")}, data={"note": note}
    )


async def upload_draft(client: httpx.AsyncClient, files: Mapping[str, bytes]) -> int:
    """Uploads the files as a .zip and gives the id of the draft the upload made."""
    return version_id_from(await upload(client, make_zip(files)))


def parse(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def text_of(element: object) -> str:
    return " ".join(element.get_text(" ", strip=True).split())  # type: ignore[attr-defined]


def listed_errors(response: httpx.Response) -> list[tuple[str, str]]:
    """(file[:line], message) for every problem in the page's error list."""
    found = []
    for item in parse(response).select(".error-list li"):
        code = item.find("code")
        where = code.get_text() if code else ""
        found.append((where, item.get_text().removeprefix(where).strip()))
    return found


async def row_counts(db: AsyncSession) -> dict[str, int]:
    return {name: await db.scalar(select(func.count()).select_from(model)) or 0 for name, model in COUNTED.items()}


async def versions_of(db: AsyncSession, course_id: int) -> list[CourseVersion]:
    """Every version of the course, oldest first, as the database holds them now."""
    statement = select(CourseVersion).where(CourseVersion.course_id == course_id).order_by(CourseVersion.number)
    return list(await db.scalars(statement.execution_options(populate_existing=True)))


def version_id_from(response: httpx.Response) -> int:
    """The version a 303 after an upload or an edit leads to."""
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/admin/content/versions/"), location
    return int(location.removeprefix("/admin/content/versions/").split("?", 1)[0])
