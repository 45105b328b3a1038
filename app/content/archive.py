"""Reading an uploaded course-pack .zip into memory, refusing anything a hostile or broken archive could do.

Nothing is written to disk. Sizes in the zip headers are only used to refuse early: every member is then read
in chunks and its real bytes counted, so a forged header cannot smuggle a zip bomb past the limits.
"""

from __future__ import annotations

import bisect
import io
import re
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from typing import NoReturn

from app.content.errors import ContentError, PackInvalid

ARCHIVE = "(ZIP ファイル)"  # the file named by problems of the archive as a whole
CHUNK = 65_536
RATIO_EXEMPT_BYTES = 65_536  # small files may compress very well (blank lines, repeated YAML keys)
ENCRYPTED = 0x1
UTF8_NAME = 0x800
DRIVE = re.compile(r"[A-Za-z]:")
JUNK_FILES = frozenset({".ds_store", "thumbs.db"})
RESTART = "パックのフォルダを ZIP に圧縮し直してください"


@dataclass(frozen=True)
class ArchiveLimits:
    max_archive_bytes: int = 30_000_000  # the uploaded .zip itself
    max_files: int = 500  # entries that are files
    max_file_bytes: int = 15_000_000  # one file, uncompressed (PDF handouts are the largest)
    max_total_bytes: int = 80_000_000  # all files, uncompressed
    max_ratio: int = 100  # uncompressed / compressed, per file larger than RATIO_EXEMPT_BYTES


def read_pack_archive(data: bytes, *, limits: ArchiveLimits = ArchiveLimits()) -> dict[str, bytes]:
    """Every file of a pack zip as {posix relative path: bytes}; PackInvalid listing every problem otherwise."""
    if len(data) > limits.max_archive_bytes:
        _refuse(f"ZIP ファイルが大きすぎます({len(data):,} バイト。{limits.max_archive_bytes:,} バイトまで)")
    declared = _declared_entries(data)
    # zipfile builds one object per directory entry before we can count: refuse absurd counts beforehand.
    if declared is not None and declared > limits.max_files * 4:
        _refuse(f"ZIP の中の項目が多すぎます({declared:,} 個。ファイルは {limits.max_files:,} 個までです)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
        _refuse(f"ZIP ファイルとして読めません(壊れているか、ZIP 以外の形式です)。{RESTART}")
    with archive:
        return _Reader(archive, len(data), limits).read()


def _refuse(message: str) -> NoReturn:
    raise PackInvalid([ContentError(file=ARCHIVE, line=None, message=message)])


def _declared_entries(data: bytes) -> int | None:
    """The entry count in the end-of-central-directory record (the zip64 one when present); None if not found."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 65_535))
    if end < 0 or end + 22 > len(data):
        return None
    count = int.from_bytes(data[end + 10 : end + 12], "little")
    if count != 0xFFFF:
        return count
    # 0xFFFF means "see the zip64 record"; when it cannot be found here, zipfile is left to judge the archive.
    locator = end - 20
    if locator < 0 or data[locator : locator + 4] != b"PK\x06\x07":
        return None
    offset = int.from_bytes(data[locator + 8 : locator + 16], "little")
    if data[offset : offset + 4] != b"PK\x06\x06":
        return None
    return int.from_bytes(data[offset + 32 : offset + 40], "little")


def _decode_name(info: zipfile.ZipInfo) -> str | None:
    """The entry name as the author wrote it; None when its encoding cannot be told."""
    name = info.orig_filename  # info.filename is cut at a NUL byte, which would hide the NUL from the checks
    if info.flag_bits & UTF8_NAME or name.isascii():
        return name
    # Without the UTF-8 flag zipfile decodes as cp437, but Japanese Windows writes CP932: get the bytes back.
    raw = name.encode("cp437")
    for encoding in ("utf-8", "cp932"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _path_problem(name: str) -> str | None:
    if "\\" in name:
        return "バックスラッシュ(\\)を含む名前は使えません。フォルダの区切りは / にしてください"
    if any(unicodedata.category(char) == "Cc" for char in name):
        return "名前に制御文字(NUL など)が含まれています。ファイル名を付け直してください"
    if name.startswith("/"):
        return "絶対パス(/ で始まる名前)は使えません。パックのフォルダの中からの相対パスにしてください"
    if DRIVE.match(name):
        return "ドライブ名(C: など)で始まる名前は使えません。パックのフォルダの中からの相対パスにしてください"
    segments = name.removesuffix("/").split("/")
    if ".." in segments:
        return "「..」(親フォルダ)を含む名前は使えません(パックの外を指します)。名前を付け直してください"
    if "." in segments or "" in segments:
        return "空のフォルダ名や「.」を含む名前は使えません(// や /./ を確認してください)。名前を付け直してください"
    return None


def _duplicate_message(name: str, other: str) -> str:
    if other == name:
        what = "同じ名前のファイルが 2 つあります"
    elif other.casefold() == name.casefold():
        what = f"「{other}」と大文字・小文字だけが違う名前です(Windows や Mac では同じファイルになります)"
    else:
        what = f"「{other}」と見た目が同じ名前です(濁点などの文字の組み立て方だけが違います)"
    return f"{what}。どちらかの名前を変えてください"


def _is_junk(name: str) -> bool:
    """Files that macOS and Windows add by themselves; the author never meant them."""
    segments = name.split("/")
    base = segments[-1]
    return "__MACOSX" in segments[:-1] or base.lower() in JUNK_FILES or base.startswith("._")


class _Reader:
    def __init__(self, archive: zipfile.ZipFile, archive_bytes: int, limits: ArchiveLimits) -> None:
        self.archive = archive
        self.archive_bytes = archive_bytes
        self.limits = limits
        self.errors: list[ContentError] = []
        self.total = 0
        # Where each entry's room ends: the next local header, or the central directory after the last one.
        ends = {info.header_offset for info in archive.infolist()}
        self.ends = sorted(ends | {getattr(archive, "start_dir", archive_bytes)})

    def add(self, file: str, message: str) -> None:
        self.errors.append(ContentError(file=file, line=None, message=message))

    def read(self) -> dict[str, bytes]:
        members = self._check_entries()
        files: dict[str, bytes] = {}
        if len(members) > self.limits.max_files:
            self.add(ARCHIVE, f"ファイルが多すぎます({len(members):,} 個。{self.limits.max_files:,} 個まで)")
        elif self._declared_total(members) > self.limits.max_total_bytes:
            self.add(ARCHIVE, self._total_message())
        else:
            for name, (key, info) in members.items():
                content = self._read_member(name, info) if info is not None else None
                if content is not None:
                    files[key] = content
                if self.total > self.limits.max_total_bytes:
                    break  # the problem is recorded; reading on would only cost time
        if members:
            files = self._rooted(files, [key for key, _ in members.values()])
        elif not self.errors:
            self.add(ARCHIVE, f"ZIP の中にファイルがありません。{RESTART}")
        if self.errors:
            raise PackInvalid(self.errors)
        return files

    def _check_entries(self) -> dict[str, tuple[str, zipfile.ZipInfo | None]]:
        """Every file entry by name, with None instead of its info when it must not be read."""
        members: dict[str, tuple[str, zipfile.ZipInfo | None]] = {}
        seen: dict[str, str] = {}
        for info in self.archive.infolist():
            name = _decode_name(info)
            if name is None:
                shown = info.orig_filename.encode("cp437").decode("cp932", errors="replace")
                self.add(
                    shown,
                    "ファイル名の文字コードが読めません。ファイル名を UTF-8 で保存できるツールで圧縮し直してください",
                )
                continue
            problem = _path_problem(name)
            if problem is not None:
                self.add(name, problem)
                continue
            mode = info.external_attr >> 16
            if info.is_dir() or stat.S_ISDIR(mode) or _is_junk(name):
                continue
            problem = self._entry_problem(info, mode)
            # macOS stores names decomposed (NFD): keys are NFC so that links written in Markdown match them.
            key = unicodedata.normalize("NFC", name)
            folded = key.casefold()
            if folded in seen:
                self.add(name, _duplicate_message(name, seen[folded]))
                continue
            seen[folded] = name
            if problem is not None:
                self.add(name, problem)
            members[name] = (key, info if problem is None else None)
        return members

    def _entry_problem(self, info: zipfile.ZipInfo, mode: int) -> str | None:
        if stat.S_ISLNK(mode):
            return "シンボリックリンクは使えません。リンク先のファイルそのものを入れてください"
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
            return "普通のファイルではありません(デバイスや FIFO などの特殊ファイル)。パックから外してください"
        if info.flag_bits & ENCRYPTED:
            return "パスワード付き(暗号化)のファイルは読めません。パスワードなしで圧縮し直してください"
        return self._declared_size_problem(info)

    def _declared_size_problem(self, info: zipfile.ZipInfo) -> str | None:
        """Refusal from the header's sizes alone, before anything is decompressed."""
        if info.file_size > self.limits.max_file_bytes:
            return self._file_message()
        if info.file_size > RATIO_EXEMPT_BYTES and info.file_size > max(info.compress_size, 1) * self.limits.max_ratio:
            return self._ratio_message()
        return None

    def _declared_total(self, members: dict[str, tuple[str, zipfile.ZipInfo | None]]) -> int:
        return sum(info.file_size for _, info in members.values() if info is not None)

    def _read_member(self, name: str, info: zipfile.ZipInfo) -> bytes | None:
        """The member's bytes, counted as they come out of the decompressor; None after recording a problem."""
        limits = self.limits
        # The compressed data cannot be larger than the room up to the next entry, whatever the header says.
        room = min(max(info.compress_size, 1), max(self._room(info), 1))
        chunks: list[bytes] = []
        size = 0
        try:
            with self.archive.open(info) as member:
                while chunk := member.read(CHUNK):
                    size += len(chunk)
                    self.total += len(chunk)
                    if size > limits.max_file_bytes:
                        self.add(name, self._file_message())
                        return None
                    if self.total > limits.max_total_bytes:
                        self.add(name, self._total_message())
                        return None
                    if size > RATIO_EXEMPT_BYTES and size > room * limits.max_ratio:
                        self.add(name, self._ratio_message())
                        return None
                    chunks.append(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError):
            self.add(name, f"中身が壊れているか、対応していない圧縮方式です。{RESTART}")
            return None
        return b"".join(chunks)

    def _room(self, info: zipfile.ZipInfo) -> int:
        index = bisect.bisect_right(self.ends, info.header_offset)
        end = self.ends[index] if index < len(self.ends) else self.archive_bytes
        return end - info.header_offset

    def _rooted(self, files: dict[str, bytes], names: list[str]) -> dict[str, bytes]:
        """Files relative to the pack folder: the one folder that holds everything is stripped, if there is one."""
        tops = {name.split("/", 1)[0] for name in names}
        prefix = f"{tops.pop()}/" if len(tops) == 1 and all("/" in name for name in names) else ""
        rooted = {name.removeprefix(prefix): content for name, content in files.items()}
        if "course.yaml" not in {name.removeprefix(prefix) for name in names}:
            self.add("course.yaml", "course.yaml がありません(パックのフォルダをそのまま ZIP にしてください)")
        return rooted

    def _file_message(self) -> str:
        limit = self.limits.max_file_bytes
        return f"展開すると大きすぎます(1 ファイル {limit:,} バイトまで)。画像や PDF を小さくしてください"

    def _total_message(self) -> str:
        limit = self.limits.max_total_bytes
        return f"展開後の合計が大きすぎます({limit:,} バイトまで)。ファイルを減らすか小さくしてください"

    def _ratio_message(self) -> str:
        return (
            f"圧縮率が異常です(元の大きさが圧縮後の {self.limits.max_ratio} 倍を超えます)。"
            f"細工された ZIP の疑いがあるため読み込みません。{RESTART}"
        )
