"""Reading an uploaded pack .zip: real hostile archives are built here, byte by byte where zipfile will not."""

from __future__ import annotations

import io
import os
import stat
import unicodedata
import warnings
import zipfile

import pytest

from app.content import archive
from app.content.archive import ARCHIVE, ArchiveLimits, read_pack_archive
from app.content.errors import ContentError, PackInvalid

COURSE = b"slug: kasuhara-basics\ntitle: \xe3\x82\xab\xe3\x82\xb9\xe3\x83\x8f\xe3\x83\xa9\n"
LESSON = "## はじめに\n\n落ち着いて話を聞きます。\n".encode()
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
PACK = {"course.yaml": COURSE, "lessons/01-intro.md": LESSON, "images/flow.png": PNG}

# Offsets inside the local file header ("PK\3\4") and the central directory header ("PK\1\2").
LOCAL = {"signature": b"PK\x03\x04", "flags": 6, "compressed": 18, "size": 22, "name_length": 26, "name": 30}
CENTRAL = {"signature": b"PK\x01\x02", "flags": 8, "compressed": 20, "size": 24, "name_length": 28, "name": 46}

Entry = tuple[str | zipfile.ZipInfo, bytes]


def make_zip(entries: list[Entry] | dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    items = list(entries.items()) if isinstance(entries, dict) else entries
    with zipfile.ZipFile(buffer, "w", compression) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicates some tests need
        for name, content in items:
            zf.writestr(name, content)
    return buffer.getvalue()


def entry(name: str, *, mode: int | None = None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("placeholder")
    info.filename = name  # set after construction: the constructor would cut the name at a NUL
    info.compress_type = zipfile.ZIP_DEFLATED
    if mode is not None:
        info.external_attr = mode << 16
    return info


def patch_header(data: bytes, name: bytes, *, headers: tuple[dict, ...] = (LOCAL, CENTRAL), **fields: int) -> bytes:
    """The archive with some header fields of the entry called name overwritten (flags are OR-ed in)."""
    out = bytearray(data)
    for header in headers:
        position = out.find(header["signature"])
        while position >= 0:
            at = position + header["name_length"]
            length = int.from_bytes(out[at : at + 2], "little")
            if out[position + header["name"] : position + header["name"] + length] == name:
                for field, value in fields.items():
                    width = 2 if field == "flags" else 4
                    at = position + header[field]
                    if field == "flags":
                        value |= int.from_bytes(out[at : at + width], "little")
                    out[at : at + width] = value.to_bytes(width, "little")
            position = out.find(header["signature"], position + 4)
    return bytes(out)


def problems(data: bytes, limits: ArchiveLimits | None = None) -> list[ContentError]:
    with pytest.raises(PackInvalid) as caught:
        read_pack_archive(data, limits=limits or ArchiveLimits())
    return caught.value.errors


def only_problem(data: bytes, limits: ArchiveLimits | None = None) -> ContentError:
    found = problems(data, limits)
    assert len(found) == 1, [str(error) for error in found]
    return found[0]


# --- archives that are fine -------------------------------------------------------------------------------------


def test_a_pack_zipped_from_inside_its_folder_reads_every_file() -> None:
    assert read_pack_archive(make_zip(PACK)) == PACK


def test_a_pack_zipped_with_its_folder_has_that_folder_stripped() -> None:
    entries: list[Entry] = [("kasuhara-basics/", b""), ("kasuhara-basics/lessons/", b"")]
    entries += [(f"kasuhara-basics/{name}", content) for name, content in PACK.items()]

    assert read_pack_archive(make_zip(entries)) == PACK


def test_only_a_single_common_folder_is_stripped() -> None:
    nested = {f"outer/inner/{name}": content for name, content in PACK.items()}

    found = only_problem(make_zip(nested))

    assert found.file == "course.yaml"
    assert "course.yaml がありません" in found.message


@pytest.mark.parametrize("prefix", ["", "kasuhara-basics/"])
def test_files_that_macos_and_windows_add_are_ignored(prefix: str) -> None:
    junk = {
        "__MACOSX/": b"",
        f"__MACOSX/{prefix}._course.yaml": b"\x00\x05\x16\x07",
        f"{prefix}.DS_Store": b"Bud1",
        f"{prefix}images/._flow.png": b"\x00\x05\x16\x07",
        f"{prefix}images/Thumbs.db": b"\xd0\xcf\x11\xe0",
    }
    files = {f"{prefix}{name}": content for name, content in PACK.items()}

    assert read_pack_archive(make_zip(junk | files)) == PACK


def test_a_nested_zip_is_an_ordinary_file() -> None:
    inner = make_zip({"evil/../../x": b"never extracted"})

    assert read_pack_archive(make_zip(PACK | {"handouts/extra.zip": inner}))["handouts/extra.zip"] == inner


def test_stored_entries_are_read_too() -> None:
    assert read_pack_archive(make_zip(PACK, compression=zipfile.ZIP_STORED)) == PACK


def test_names_stored_decomposed_by_macos_come_back_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "images/ガイド.png")
    assert decomposed != "images/ガイド.png"

    files = read_pack_archive(make_zip({"course.yaml": COURSE, decomposed: PNG}))

    assert files == {"course.yaml": COURSE, "images/ガイド.png": PNG}


# --- names ------------------------------------------------------------------------------------------------------


def legacy_name_zip(raw_name: bytes, content: bytes) -> bytes:
    """An archive with a name in raw bytes and no UTF-8 flag, as the Japanese Windows Explorer writes it."""
    placeholder = b"Q" * len(raw_name)  # ASCII, so zipfile sets no flag; same length, so offsets stay right
    data = make_zip({"course.yaml": COURSE, placeholder.decode(): content})
    assert data.count(placeholder) == 2  # the local header and the central directory
    return data.replace(placeholder, raw_name)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("lessons/はじめに.md".encode("cp932"), "lessons/はじめに.md"),
        # 表 is 0x95 0x5C in Shift_JIS: its second byte is a backslash, which must not be mistaken for one.
        ("images/表.png".encode("cp932"), "images/表.png"),
        # Info-ZIP on Linux writes UTF-8 bytes but does not always set the flag.
        ("lessons/対応.md".encode(), "lessons/対応.md"),
    ],
    ids=["shift-jis", "shift-jis-with-0x5c", "utf-8-without-flag"],
)
def test_names_without_the_utf8_flag_are_decoded(raw: bytes, expected: str) -> None:
    data = legacy_name_zip(raw, LESSON)

    assert read_pack_archive(data) == {"course.yaml": COURSE, expected: LESSON}


def test_a_name_that_is_neither_utf8_nor_shift_jis_is_refused() -> None:
    found = only_problem(legacy_name_zip(b"lessons/\x81\xff.md", LESSON))

    assert found.file.startswith("lessons/")
    assert "文字コードが読めません" in found.message


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("../evil.md", "「..」"),
        ("lessons/../../evil.md", "「..」"),
        ("lessons/..", "「..」"),
        ("/abs.md", "絶対パス"),
        ("//server/share.md", "絶対パス"),
        ("C:/x.md", "ドライブ名"),
        ("C:x.md", "ドライブ名"),
        ("C:\\x.md", "バックスラッシュ"),
        ("a\\..\\b.md", "バックスラッシュ"),
        ("lessons//a.md", "空のフォルダ名"),
        ("./a.md", "「.」"),
        ("a\x00.md", "制御文字"),
        ("lessons/a\x1b[31m.md", "制御文字"),
        ("lessons/a\x7f.md", "制御文字"),
        ("lessons/a\nb.md", "制御文字"),
    ],
)
def test_unsafe_names_are_refused_by_name(name: str, problem: str) -> None:
    data = make_zip([("course.yaml", COURSE), (entry(name), b"payload")])

    found = only_problem(data)

    assert found.file == name
    assert problem in found.message
    assert name in str(found)


def test_an_unsafe_directory_entry_is_refused_too() -> None:
    found = only_problem(make_zip([("course.yaml", COURSE), ("../", b"")]))

    assert found.file == "../"
    assert "「..」" in found.message


# --- entry kinds ------------------------------------------------------------------------------------------------


def test_a_symlink_is_refused() -> None:
    link = entry("images/passwd.png", mode=stat.S_IFLNK | 0o777)
    data = make_zip([("course.yaml", COURSE), (link, b"../../../../etc/passwd")])

    found = only_problem(data)

    assert found.file == "images/passwd.png"
    assert "シンボリックリンク" in found.message


@pytest.mark.parametrize("kind", [stat.S_IFIFO, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFSOCK])
def test_special_files_are_refused(kind: int) -> None:
    data = make_zip([("course.yaml", COURSE), (entry("lessons/pipe.md", mode=kind | 0o644), b"")])

    found = only_problem(data)

    assert found.file == "lessons/pipe.md"
    assert "特殊ファイル" in found.message


def test_a_regular_file_with_unix_permissions_is_fine() -> None:
    data = make_zip([("course.yaml", COURSE), (entry("lessons/01.md", mode=stat.S_IFREG | 0o644), LESSON)])

    assert read_pack_archive(data)["lessons/01.md"] == LESSON


def test_an_encrypted_entry_is_refused() -> None:
    data = patch_header(make_zip(PACK), b"lessons/01-intro.md", flags=0x1)

    found = only_problem(data)

    assert found.file == "lessons/01-intro.md"
    assert "暗号化" in found.message


@pytest.mark.parametrize(
    ("first", "second", "problem"),
    [
        ("lessons/01-intro.md", "lessons/01-intro.md", "同じ名前のファイルが 2 つあります"),
        ("images/flow.png", "Images/Flow.PNG", "大文字・小文字だけが違う"),
        ("lessons/ガイド.md", unicodedata.normalize("NFD", "lessons/ガイド.md"), "文字の組み立て方だけが違います"),
    ],
    ids=["exact", "case-only", "unicode-normalisation"],
)
def test_names_that_would_collide_are_refused(first: str, second: str, problem: str) -> None:
    data = make_zip([("course.yaml", COURSE), (first, b"one"), (second, b"two")])

    found = only_problem(data)

    assert found.file == second
    assert problem in found.message
    assert first == second or first in found.message


# --- sizes ------------------------------------------------------------------------------------------------------


def test_an_archive_over_the_size_limit_is_refused_before_opening() -> None:
    not_even_a_zip = b"x" * 2_000

    found = only_problem(not_even_a_zip, ArchiveLimits(max_archive_bytes=1_000))

    assert found.file == ARCHIVE
    assert "ZIP ファイルが大きすぎます" in found.message
    assert "1,000 バイトまで" in found.message


def test_too_many_files_are_refused() -> None:
    files = PACK | {f"lessons/{index:02d}.md": LESSON for index in range(5)}

    found = only_problem(make_zip(files), ArchiveLimits(max_files=7))

    assert found.file == ARCHIVE
    assert "ファイルが多すぎます(8 個。7 個まで)" in found.message


def test_too_many_files_at_the_limit_are_fine() -> None:
    assert len(read_pack_archive(make_zip(PACK), limits=ArchiveLimits(max_files=3))) == 3


def test_an_absurd_number_of_entries_is_refused_before_zipfile_reads_them() -> None:
    folders = {f"d{index}/": b"" for index in range(50)}

    found = only_problem(make_zip(PACK | folders), ArchiveLimits(max_files=10))

    assert found.file == ARCHIVE
    assert "項目が多すぎます(53 個" in found.message


def test_an_absurd_number_of_entries_is_found_in_the_zip64_record_too() -> None:
    folders = {f"d{index}/": b"" for index in range(0x10000)}  # one past what the classic record can count
    data = make_zip(PACK | folders, compression=zipfile.ZIP_STORED)
    assert b"PK\x06\x06" in data

    found = only_problem(data)

    assert "項目が多すぎます(65,539 個" in found.message


def test_bytes_before_the_archive_are_tolerated() -> None:
    # Self-extracting archives and some upload tools put bytes in front; zipfile finds the entries anyway.
    assert read_pack_archive(b"MZ" + bytes(1_000) + make_zip(PACK)) == PACK


def test_a_file_too_big_is_refused_by_name() -> None:
    data = make_zip(PACK | {"handouts/big.pdf": os.urandom(5_000)})

    found = only_problem(data, ArchiveLimits(max_file_bytes=4_000))

    assert found.file == "handouts/big.pdf"
    assert "1 ファイル 4,000 バイトまで" in found.message


def test_files_too_big_together_are_refused() -> None:
    files = PACK | {f"handouts/{index}.pdf": os.urandom(3_000) for index in range(4)}

    found = only_problem(make_zip(files), ArchiveLimits(max_total_bytes=10_000))

    assert found.file == ARCHIVE
    assert "合計が大きすぎます(10,000 バイトまで)" in found.message


def test_a_zip_bomb_is_refused_by_its_compression_ratio() -> None:
    bomb = make_zip(PACK | {"images/zeros.png": bytes(10_000_000)})
    assert len(bomb) < 100_000

    found = only_problem(bomb)

    assert found.file == "images/zeros.png"
    assert "圧縮率が異常です" in found.message
    assert "100 倍" in found.message


def test_a_small_file_may_compress_very_well() -> None:
    blank = b"\n" * 60_000

    assert read_pack_archive(make_zip(PACK | {"lessons/blank.md": blank}))["lessons/blank.md"] == blank


def test_a_bomb_whose_header_claims_a_large_compressed_size_is_caught_while_reading() -> None:
    # Something must follow the bomb, or zipfile would run out of bytes to read and call the entry broken.
    bomb = make_zip(PACK | {"images/zeros.png": bytes(2_000_000), "handouts/a.pdf": os.urandom(100_000)})
    # The header now says the 2 MB came from 1 MB, a ratio of 2: only the real bytes show the lie.
    forged = patch_header(bomb, b"images/zeros.png", headers=(CENTRAL,), compressed=1_000_000)

    found = only_problem(forged)

    assert found.file == "images/zeros.png"
    assert "圧縮率が異常です" in found.message


def test_a_header_that_understates_the_size_is_refused_not_truncated() -> None:
    data = make_zip(PACK | {"lessons/long.md": LESSON * 1_000})
    forged = patch_header(data, b"lessons/long.md", size=len(LESSON))

    found = only_problem(forged)

    assert found.file == "lessons/long.md"
    assert "壊れている" in found.message


@pytest.fixture
def lying_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that believed the headers' sizes: only the bytes counted while reading can stop a bomb then."""
    monkeypatch.setattr(archive._Reader, "_declared_size_problem", lambda self, info: None)
    monkeypatch.setattr(archive._Reader, "_declared_total", lambda self, members: 0)


@pytest.mark.usefixtures("lying_headers")
def test_real_bytes_are_counted_against_the_file_limit() -> None:
    data = make_zip(PACK | {"handouts/big.pdf": os.urandom(300_000)})

    found = only_problem(data, ArchiveLimits(max_file_bytes=200_000))

    assert found.file == "handouts/big.pdf"
    assert "1 ファイル 200,000 バイトまで" in found.message


@pytest.mark.usefixtures("lying_headers")
def test_real_bytes_are_counted_against_the_total_limit() -> None:
    files = PACK | {f"handouts/{index}.pdf": os.urandom(100_000) for index in range(5)}

    found = only_problem(make_zip(files), ArchiveLimits(max_total_bytes=250_000))

    assert "合計が大きすぎます(250,000 バイトまで)" in found.message


@pytest.mark.usefixtures("lying_headers")
def test_real_bytes_are_counted_against_the_ratio() -> None:
    found = only_problem(make_zip(PACK | {"images/zeros.png": bytes(5_000_000)}))

    assert found.file == "images/zeros.png"
    assert "圧縮率が異常です" in found.message


# --- archives that cannot be read -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"course.yaml: not a zip", b"%PDF-1.7\n" + bytes(500), make_zip(PACK)[:-30]],
    ids=["empty-bytes", "text", "pdf", "truncated"],
)
def test_something_that_is_not_a_zip_is_refused(data: bytes) -> None:
    found = only_problem(data)

    assert found.file == ARCHIVE
    assert "ZIP ファイルとして読めません" in found.message


def test_a_corrupt_member_is_refused_by_name() -> None:
    data = bytearray(make_zip(PACK | {"handouts/notes.txt": os.urandom(2_000)}, compression=zipfile.ZIP_STORED))
    start = data.find(b"handouts/notes.txt") + len("handouts/notes.txt") + 100
    data[start : start + 8] = bytes(8)  # a flipped stretch: the CRC no longer matches

    found = only_problem(bytes(data))

    assert found.file == "handouts/notes.txt"
    assert "中身が壊れている" in found.message


@pytest.mark.parametrize(
    "entries",
    [{}, {"pack/": b"", "pack/lessons/": b""}, {"__MACOSX/._x": b"", ".DS_Store": b""}],
    ids=["no-entries", "only-folders", "only-junk"],
)
def test_an_empty_archive_is_refused(entries: dict[str, bytes]) -> None:
    found = only_problem(make_zip(entries))

    assert found.file == ARCHIVE
    assert "ファイルがありません" in found.message


def test_a_pack_without_course_yaml_is_refused() -> None:
    data = make_zip({name: content for name, content in PACK.items() if name != "course.yaml"})

    found = only_problem(data)

    assert found.file == "course.yaml"
    assert found.message == "course.yaml がありません(パックのフォルダをそのまま ZIP にしてください)"


def test_course_yaml_in_a_subfolder_is_not_at_the_root() -> None:
    data = make_zip({"lessons/course.yaml": COURSE, "images/flow.png": PNG})

    assert only_problem(data).file == "course.yaml"


# --- everything at once -----------------------------------------------------------------------------------------


def test_every_problem_is_reported_together() -> None:
    entries: list[Entry] = [
        ("lessons/01-intro.md", LESSON),
        ("../evil.md", b"zip slip"),
        ("/etc/cron.d/evil", b"* * * * * root sh"),
        (entry("images/link.png", mode=stat.S_IFLNK | 0o777), b"/etc/passwd"),
        ("lessons/secret.md", b"hidden"),
        ("images/flow.png", PNG),
        ("Images/FLOW.png", PNG),
        ("images/zeros.png", bytes(1_000_000)),
    ]
    data = patch_header(make_zip(entries), b"lessons/secret.md", flags=0x1)

    found = {(error.file, error.message.split("(")[0].split("。")[0]) for error in problems(data)}

    assert found == {
        ("../evil.md", "「..」"),
        ("/etc/cron.d/evil", "絶対パス"),
        ("images/link.png", "シンボリックリンクは使えません"),
        ("lessons/secret.md", "パスワード付き"),
        ("Images/FLOW.png", "「images/flow.png」と大文字・小文字だけが違う名前です"),
        ("images/zeros.png", "圧縮率が異常です"),
        ("course.yaml", "course.yaml がありません"),
    }


def test_problems_read_as_file_then_message() -> None:
    found = only_problem(make_zip([("course.yaml", COURSE), ("../evil.md", b"")]))

    assert str(found).startswith("../evil.md: ")
