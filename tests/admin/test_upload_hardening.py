"""Hostile and broken uploads through the real route: each is refused with its problem named in Japanese, and
nothing at all is written (no version, no file, no asset, no audit entry)."""

from __future__ import annotations

import stat
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.admin import content_routes
from app.content.archive import ARCHIVE, ArchiveLimits
from app.content.models import Course
from tests.admin.helpers import edited, listed_errors, make_zip, pack_files, parse, row_counts, upload, zip_entry

MAX_FILES = ArchiveLimits().max_files
ALIAS_BOMB = "bomb_a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"bomb_{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(20)
)  # 9 × 4^20 items once expanded


def with_entries(*extra: tuple[str | object, bytes]) -> bytes:
    return make_zip([*pack_files().items(), *extra])  # type: ignore[list-item]


def with_files(files: dict[str, bytes]) -> bytes:
    return make_zip(files)


def changed(path: str, old: str, new: str) -> bytes:
    return make_zip(edited(pack_files(), path, old, new))


def too_many_files() -> bytes:
    files = pack_files()
    extra = {f"images/extra-{index:03d}.png": b"\x89PNG\r\n\x1a\n" for index in range(MAX_FILES + 1 - len(files))}
    return make_zip(files | extra)


CASES: dict[str, tuple[Callable[[], bytes], tuple[str, str]]] = {
    "zip-slip": (
        lambda: with_entries((zip_entry("../evil.md"), b"# pwned\n")),
        ("../evil.md", "「..」(親フォルダ)を含む名前は使えません(パックの外を指します)。名前を付け直してください"),
    ),
    "absolute-path": (
        lambda: with_entries((zip_entry("/etc/cron.d/evil"), b"* * * * * root id\n")),
        ("/etc/cron.d/evil", "絶対パス(/ で始まる名前)は使えません。パックのフォルダの中からの相対パスにしてください"),
    ),
    "symlink": (
        lambda: with_entries((zip_entry("images/passwd.svg", mode=stat.S_IFLNK | 0o777), b"/etc/passwd")),
        ("images/passwd.svg", "シンボリックリンクは使えません。リンク先のファイルそのものを入れてください"),
    ),
    "zip-bomb": (
        lambda: with_entries(("handouts/bomb.pdf", b"%PDF-" + bytes(2_000_000))),
        (
            "handouts/bomb.pdf",
            "圧縮率が異常です(元の大きさが圧縮後の 100 倍を超えます)。細工された ZIP の疑いがあるため読み込みません。"
            "パックのフォルダを ZIP に圧縮し直してください",
        ),
    ),
    "too-many-files": (
        too_many_files,
        (ARCHIVE, f"ファイルが多すぎます({MAX_FILES + 1} 個。{MAX_FILES} 個まで)"),
    ),
    "not-a-zip": (
        lambda: b"%PDF-1.4\nthis is a PDF, not a course pack\n%%EOF\n",
        (
            ARCHIVE,
            "ZIP ファイルとして読めません(壊れているか、ZIP 以外の形式です)。"
            "パックのフォルダを ZIP に圧縮し直してください",
        ),
    ),
    "empty-file": (lambda: b"", ("upload", "ファイルを選んでください")),
    "duplicate-names": (
        lambda: with_entries(("lessons/02-responses.md", b"---\ntitle: x\n---\n")),
        ("lessons/02-responses.md", "同じ名前のファイルが 2 つあります。どちらかの名前を変えてください"),
    ),
    "non-utf8-lesson": (
        lambda: with_files(pack_files() | {"lessons/02-responses.md": "---\ntitle: 対応\n---\n".encode("cp932")}),
        ("lessons/02-responses.md", "UTF-8 として読めません(11 バイト目)。UTF-8 で保存してください"),
    ),
    "yaml-alias-bomb": (
        lambda: with_files(pack_files() | {"course.yaml": ALIAS_BOMB.encode() + pack_files()["course.yaml"]}),
        ("course.yaml:1", "YAML のアンカー(&)とエイリアス(*)は使えません。内容をそのまま書いてください"),
    ),
    "python-object-tag": (
        lambda: changed("course.yaml", "title: テスト用ミニコース", "title: !!python/object/apply:os.system ['id']"),
        ("course.yaml:2", "YAML のタグ(tag:yaml.org,2002:python/object/apply:os.system)は使えません"),
    ),
    "unknown-question-type": (
        lambda: changed("quizzes/01-basics.yaml", "type: single", "type: essay"),
        (
            "quizzes/01-basics.yaml:7",
            "questions[0]: type「essay」は使えません(使えるのは 'single', 'multiple', 'true_false', 'ordering', "
            "'scenario')",
        ),
    ),
    "single-without-a-correct-answer": (
        lambda: changed(
            "quizzes/01-basics.yaml",
            "text: 要求の妥当性と手段の相当性, correct: true",
            "text: 要求の妥当性と手段の相当性",
        ),
        ("quizzes/01-basics.yaml:7", "questions[0]: single の問題には正解 (correct: true) がちょうど1つ必要です"),
    ),
}


@pytest.mark.parametrize("case", CASES)
async def test_a_bad_upload_is_refused_and_writes_nothing(
    admin_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course, case: str
) -> None:
    build, problem = CASES[case]
    before = await row_counts(db)

    response = await upload(admin_client, build())

    assert response.status_code == 422
    assert problem in listed_errors(response), listed_errors(response)
    assert len(listed_errors(response)) == 1
    # the upload form is offered again, next to the problems
    assert parse(response).select_one("form[action='/admin/content/upload'] input[type=file][name=pack]") is not None
    assert await row_counts(db) == before


async def test_an_upload_over_the_size_limit_is_refused_with_413(
    admin_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_zip(pack_files())
    monkeypatch.setattr(content_routes, "UPLOAD_LIMIT", len(data) - 1)
    before = await row_counts(db)

    response = await upload(admin_client, data)

    assert response.status_code == 413
    [(where, message)] = listed_errors(response)
    assert where == "mini-course.zip" and message.startswith("ファイルが大きすぎます(")
    assert await row_counts(db) == before

    monkeypatch.setattr(content_routes, "UPLOAD_LIMIT", len(data))
    assert (await upload(admin_client, data)).status_code == 303  # exactly at the limit is fine
