"""Reading the employee list as HR exports it from Excel: decode the bytes, parse and validate the CSV.

Parsing is a pure function, like the planning that follows it (`import_plan`), so that the admin can preview the plan,
and the caller applies exactly what was previewed (`ImportPlan.digest`) in one transaction.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol, TypeVar

from app.auth.identifiers import EMPLOYEE_NUMBER, normalise_email, normalise_employee_number
from app.auth.models import Role

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_NAME_CHARS = 100
MAX_EMAIL_CHARS = 254
MAX_DEPARTMENT_CHARS = 100
MAX_DEPARTMENT_LEVELS = 10

# Column key → (Japanese header, English alias). Messages name the Japanese header, which is what HR writes.
COLUMNS: dict[str, tuple[str, str]] = {
    "employee_number": ("社員番号", "employee_number"),
    "name": ("氏名", "name"),
    "email": ("メールアドレス", "email"),
    "department": ("部署", "department"),
    "role": ("役割", "role"),
    "manager": ("管理者", "manager"),
    "managed_departments": ("管理部署", "managed_departments"),
}
ALL_COLUMNS = frozenset(COLUMNS)
REQUIRED_COLUMNS = ("employee_number", "name")
# Role and managed departments are derived together, so these columns are read (or left alone) as a group.
ROLE_COLUMNS = frozenset({"role", "manager", "managed_departments"})

ROLE_VALUES: dict[str, Role | None] = {
    "": None,
    "受講者": Role.LEARNER,
    "learner": Role.LEARNER,
    "管理者": Role.MANAGER,
    "マネージャー": Role.MANAGER,
    "manager": Role.MANAGER,
    "システム管理者": Role.ADMIN,
    "admin": Role.ADMIN,
}
# 〇 (ideographic zero) is how most Japanese spreadsheets write a circle, so it counts as ○ too.
FLAG_VALUES: dict[str, bool] = {
    **dict.fromkeys(("1", "○", "◯", "〇", "はい", "yes", "true", "y"), True),
    **dict.fromkeys(("", "0", "×", "いいえ", "no", "false", "n"), False),
}
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (BOM 付き)",
    "cp932": "Shift_JIS (CP932)",
    "utf-16": "UTF-16",
}
UNCLOSED_QUOTE = '「"」の閉じ忘れがないか確認してください'
EMPLOYEE_NUMBER_RULE = "半角英数字で始まり、半角英数字・「-」・「_」だけの 50 文字以内にしてください"
DECODE_ERROR = "文字コードを判別できません。UTF-8 または Shift_JIS(CP932)で保存してください"

_EXCEL_NUMBER = re.compile(r"\d+(\.\d+)?e\+\d+", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_DEPARTMENT_SEPARATOR = re.compile(r"[/／>＞]")
_MANAGED_SEPARATOR = re.compile(r"[;；、\r\n]")
_FIRST_LINE = re.compile(r"[^\r\n]*\S[^\r\n]*")


@dataclass(frozen=True)
class RowError:
    line: int | None  # None = about the whole file
    column: str | None  # the Japanese header name, e.g. "メールアドレス"
    message: str


@dataclass(frozen=True)
class CsvRow:
    line: int
    employee_number: str
    name: str
    email: str | None
    department: str | None
    role: str
    managed_departments: tuple[str, ...]


@dataclass(frozen=True)
class ParsedCsv:
    rows: list[CsvRow]
    errors: list[RowError]
    notes: list[str]
    encoding: str  # "utf-8" | "utf-8-sig" | "cp932" | "utf-16", or "unknown" when the bytes were not read
    # Optional columns present in the file; an absent column leaves that field of existing users as it is.
    columns: frozenset[str] = ALL_COLUMNS
    # Every employee number in the file, rows with errors included; None when some row has none we could read.
    employee_numbers: frozenset[str] | None = None


class _Invalid(Exception):
    """A cell value that cannot be used; the message says how to fix it."""


def parse_employee_csv(data: bytes) -> ParsedCsv:
    """Decode and validate an employee CSV; every problem comes back with its line and column."""
    if len(data) > MAX_BYTES:
        return _file_error(f"ファイルが大きすぎます（{len(data) / 1024 / 1024:.1f} MB）。5 MB 以下に分けてください")
    if data.startswith(b"PK\x03\x04"):
        return _file_error("Excel ファイル（.xlsx）のままです。Excel で「CSV」形式を選んで保存し直してください")
    decoded = _decode(data)
    if decoded is None:
        return _file_error(DECODE_ERROR)
    text, encoding = decoded
    notes = [f"文字コード: {ENCODING_LABELS[encoding]}"]
    first_line = _FIRST_LINE.search(text)
    header_line = first_line.group() if first_line else ""
    delimiter = "\t" if "\t" in header_line and "," not in header_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _parse_records(_records(reader), encoding, notes)
    except csv.Error as exc:
        message = f"{reader.line_num} 行目付近を CSV として読めません（{exc}）。" + UNCLOSED_QUOTE
        return ParsedCsv([], [RowError(reader.line_num, None, message)], notes, encoding)


def _file_error(message: str) -> ParsedCsv:
    return ParsedCsv([], [RowError(None, None, message)], [], "unknown")


def _decode(data: bytes) -> tuple[str, str] | None:
    if data.startswith(codecs.BOM_UTF8):
        candidates: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ("utf-16",)
    elif b"\x00" in data:  # UTF-16 without a BOM, or not text at all: either way not something we can read
        return None
    else:
        candidates = ("utf-8", "cp932")
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return None


class _CsvReader(Iterator[list[str]], Protocol):
    line_num: int


def _records(reader: _CsvReader) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, cells) of each record that has any content; line numbers are physical lines."""
    end = 0
    for cells in reader:
        start, end = end + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            yield start, end, cells


def _header_key(cell: str) -> str:
    return _SPACES.sub("_", unicodedata.normalize("NFKC", cell).strip().casefold()).replace("-", "_")


_HEADER_KEYS = {_header_key(name): key for key, names in COLUMNS.items() for name in names}


def _parse_records(records: Iterator[tuple[int, int, list[str]]], encoding: str, notes: list[str]) -> ParsedCsv:
    header = next(records, None)
    if header is None:
        empty = RowError(None, None, "ファイルが空です。見出し行と社員の行を入れてください")
        return ParsedCsv([], [empty], notes, encoding)
    _, _, header_cells = header
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(header_cells):
        if not cell.strip():
            continue
        key = _HEADER_KEYS.get(_header_key(cell))
        if key is None:
            notes.append(f"列「{cell.strip()}」は使われません")
        elif key in positions:
            japanese = COLUMNS[key][0]
            where = f"{positions[key] + 1} 列目と {index + 1} 列目"
            message = f"列「{japanese}」が 2 つあります（{where}）。1 つにしてください"
            errors.append(RowError(None, japanese, message))
        else:
            positions[key] = index
    found = "、".join(cell.strip() for cell in header_cells if cell.strip()) or "（なし）"
    for key in REQUIRED_COLUMNS:
        if key not in positions:
            japanese, alias = COLUMNS[key]
            message = f"必須の列「{japanese}」（または {alias}）が 1 行目にありません。見つかった列: {found}"
            errors.append(RowError(None, japanese, message))
    columns = frozenset(positions)
    if errors:
        return ParsedCsv([], errors, notes, encoding, columns)
    if "manager" in columns and "department" not in columns:
        notes.append("列「部署」がないため、管理者 の列を 1 にした行はエラーになります")
    if "role" not in columns and ROLE_COLUMNS & columns:
        notes.append("列「役割」がないため、役割は 管理者・管理部署 の列から決めます（システム管理者 はそのままです）")

    width = max(index for index, cell in enumerate(header_cells) if cell.strip()) + 1
    rows: list[CsvRow] = []
    numbers: dict[str, int] = {}
    emails: dict[str, int] = {}
    identified = True
    for count, (line, end, cells) in enumerate(records, start=1):
        if count > MAX_ROWS:
            message = f"行が多すぎます（上限 {MAX_ROWS:,} 行）。ファイルを分けて取り込んでください"
            return ParsedCsv([], [RowError(None, None, message)], notes, encoding, columns)
        if len(cells) < width or any(cell.strip() for cell in cells[width:]):
            errors.append(RowError(line, None, _width_message(line, end, width, len(cells))))
            identified = False
            continue
        result = _validate_row(line, {key: cells[index] for key, index in positions.items()})
        row_errors = result.errors
        if result.employee_number is None:
            identified = False
        elif result.employee_number in numbers:
            first = numbers[result.employee_number]
            message = f"社員番号「{result.employee_number}」が {first} 行目と重複しています。1 人 1 行にしてください"
            row_errors.append(RowError(line, "社員番号", message))
        else:
            numbers[result.employee_number] = line
        if result.email is not None:
            if result.email in emails:
                message = f"メールアドレス「{result.email}」が {emails[result.email]} 行目と重複しています"
                row_errors.append(RowError(line, "メールアドレス", message))
            else:
                emails[result.email] = line
        errors.extend(row_errors)
        if result.row is not None and not row_errors:
            rows.append(result.row)
    if not rows and not errors:
        errors.append(RowError(None, None, "社員の行がありません。見出し行の下に 1 人 1 行で書いてください"))
    employee_numbers = frozenset(numbers) if identified else None
    return ParsedCsv(rows, errors, notes, encoding, columns, employee_numbers)


def _width_message(line: int, end: int, width: int, count: int) -> str:
    counts = f"見出しは {width} 列、この行は {count} 列"
    if count < width:
        message = f"列の数が足りません（{counts}）。カンマの抜けがないか確認してください"
    else:
        message = f'列の数が多すぎます（{counts}）。カンマを含む値は「"」で囲んでください'
    if end > line:
        message += f"。この行は {line}〜{end} 行目にまたがっています。" + UNCLOSED_QUOTE
    return message


@dataclass
class _RowResult:
    row: CsvRow | None
    errors: list[RowError]
    employee_number: str | None
    email: str | None


_T = TypeVar("_T")


def _validate_row(line: int, values: dict[str, str]) -> _RowResult:
    errors: list[RowError] = []
    ok = True

    def clean(key: str, cleaner: Callable[[str], _T]) -> _T | None:
        nonlocal ok
        try:
            return cleaner(values.get(key, ""))
        except _Invalid as exc:
            errors.append(RowError(line, COLUMNS[key][0], str(exc)))
            ok = False
            return None

    number = clean("employee_number", _clean_employee_number)
    name = clean("name", _clean_name)
    email = clean("email", _clean_email)
    department = clean("department", _clean_department)
    role = clean("role", _clean_role)
    flag = clean("manager", _clean_flag)
    extra = clean("managed_departments", _clean_managed)
    result = _RowResult(None, errors, number, email)
    if not ok:
        return result

    managed = set(extra or ())
    if flag:
        if department is None:
            message = "管理者 が「はい」ですが 部署 が空です。部署 を書くか、管理者 を 0 にしてください"
            errors.append(RowError(line, "管理者", message))
            return result
        managed.add(department)
    if role is None:
        role = Role.MANAGER if managed else Role.LEARNER
    elif role == Role.LEARNER and managed:
        message = (
            "役割が 受講者 ですが、管理する部署があります（管理者 / 管理部署 の列）。"
            "役割を 管理者 にするか空にする、または 管理者 を 0 にして 管理部署 を空にしてください"
        )
        errors.append(RowError(line, "役割", message))
    elif role == Role.MANAGER and not managed:
        message = "管理する部署がありません: 管理者 の列を 1 にするか 管理部署 を書いてください"
        errors.append(RowError(line, "役割", message))
    if errors:
        return result
    assert number is not None and name is not None  # both cleaners raise rather than return None
    result.row = CsvRow(line, number, name, email, department, role.value, tuple(sorted(managed)))
    return result


def _has_control(value: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in value)


def _clean_employee_number(raw: str) -> str:
    # NFKC: Excel and Japanese IMEs often produce full-width digits (１２３) and hyphens (－).
    value = normalise_employee_number(raw)
    if not value:
        raise _Invalid("社員番号が空です。社員番号を書いてください")
    if not EMPLOYEE_NUMBER.fullmatch(value):
        message = f"社員番号「{value}」は使えません。" + EMPLOYEE_NUMBER_RULE
        if _EXCEL_NUMBER.fullmatch(value):
            message += "。Excel で数値に変換されたようです。列の書式を「文字列」にして保存し直してください"
        raise _Invalid(message)
    return value


def _clean_name(raw: str) -> str:
    value = raw.strip()
    if _has_control(value):
        raise _Invalid("氏名に改行やタブが入っています。1 行で書いてください")
    value = _SPACES.sub(" ", value)
    if not value:
        raise _Invalid("氏名が空です。氏名を書いてください")
    if len(value) > MAX_NAME_CHARS:
        raise _Invalid(f"氏名が長すぎます（{len(value)} 文字）。{MAX_NAME_CHARS} 文字以内にしてください")
    return value


def _clean_email(raw: str) -> str | None:
    value = normalise_email(raw)
    if not value:
        return None
    problem = _email_problem(value)
    if problem:
        raise _Invalid(f"メールアドレス「{raw.strip()}」は使えません: {problem}")
    return value


def _email_problem(value: str) -> str | None:
    if len(value) > MAX_EMAIL_CHARS:
        return f"長すぎます（{len(value)} 文字）。{MAX_EMAIL_CHARS} 文字以内にしてください"
    if _has_control(value) or any(char.isspace() for char in value):
        return "空白や改行を含めないでください"
    if not value.isascii():
        return "半角の英数字と記号で書いてください"
    if value.count("@") != 1:
        return "「@」はちょうど 1 つにしてください"
    local, domain = value.split("@")
    if not local:
        return "「@」の前が空です"
    if "." not in domain or domain.startswith(".") or domain.endswith(".") or ".." in domain:
        return "「@」の後ろのドメインが正しくありません（例: example.co.jp）"
    return None


def _clean_department(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return None
    if _has_control(value):
        raise _Invalid(f"部署「{value}」に改行やタブが入っています。1 行で書いてください")
    parts = [_SPACES.sub(" ", part.strip()) for part in _DEPARTMENT_SEPARATOR.split(value)]
    if not all(parts):
        example = "「本社/営業部/第一課」のように区切りの間に部署名を書いてください"
        raise _Invalid(f"部署「{value}」に空の階層があります。{example}")
    if len(parts) > MAX_DEPARTMENT_LEVELS:
        limit = f"{MAX_DEPARTMENT_LEVELS} 階層以内にしてください"
        raise _Invalid(f"部署「{value}」の階層が深すぎます（{len(parts)} 階層）。{limit}")
    for part in parts:
        if len(part) > MAX_DEPARTMENT_CHARS:
            limit = f"{MAX_DEPARTMENT_CHARS} 文字以内にしてください"
            raise _Invalid(f"部署名「{part}」が長すぎます（{len(part)} 文字）。{limit}")
    return "/".join(parts)


def _clean_managed(raw: str) -> tuple[str, ...]:
    # A newline separates too: in Excel, Alt+Enter is the natural way to list several departments in one cell.
    paths = set()
    for item in _MANAGED_SEPARATOR.split(raw):
        path = _clean_department(item)
        if path is not None:
            paths.add(path)
    return tuple(sorted(paths))


def _clean_role(raw: str) -> Role | None:
    key = unicodedata.normalize("NFKC", raw).strip().casefold()
    if key not in ROLE_VALUES:
        raise _Invalid(
            f"役割「{raw.strip()}」は使えません。受講者・管理者（マネージャー）・システム管理者、"
            "または learner・manager・admin のどれかを書くか、空にしてください（空なら受講者）"
        )
    return ROLE_VALUES[key]


def _clean_flag(raw: str) -> bool:
    key = unicodedata.normalize("NFKC", raw).strip().casefold()
    if key not in FLAG_VALUES:
        raise _Invalid(
            f"管理者「{raw.strip()}」は判別できません。部署を管理する人は 1・○・はい・yes・true・y、"
            "それ以外は 0・×・いいえ・no・false・n か空にしてください"
        )
    return FLAG_VALUES[key]
