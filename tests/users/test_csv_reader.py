import csv
import io
from dataclasses import replace

import pytest

from app.users.csv_reader import DECODE_ERROR, MAX_ROWS, CsvRow, ParsedCsv, parse_employee_csv
from app.users.import_plan import ExistingUser, FieldChange, ImportPlan, plan_import

HEADER = ["社員番号", "氏名", "メールアドレス", "部署", "役割", "管理者", "管理部署"]


def csv_bytes(
    rows: list[list[str]], *, header: list[str] = HEADER, encoding: str = "utf-8", delimiter: str = ","
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def parse(rows: list[list[str]], **kwargs: object) -> ParsedCsv:
    return parse_employee_csv(csv_bytes(rows, **kwargs))  # type: ignore[arg-type]


def row(number: str = "E001", name: str = "佐藤 一郎", email: str = "", department: str = "", *rest: str) -> list[str]:
    """A data row in HEADER order; role, manager flag and managed departments follow in `rest`."""
    return [number, name, email, department, *rest, *[""] * (3 - len(rest))]


def located(parsed: ParsedCsv | ImportPlan) -> list[tuple[int | None, str | None]]:
    return [(error.line, error.column) for error in parsed.errors]


# --- decoding ---------------------------------------------------------------------------------------------------

# 髙 and ① exist only in CP932 (not in JIS X 0208 Shift_JIS); ～ is the CP932 reading of 0x8160.
SAMPLE = [
    row("E001", "髙橋　　一郎", "Takahashi@Example.co.jp", "本社／営業部／第①課", "", "1", ""),
    row("E002", "山田, 花子", "", "東京～大阪支店", "", "", ""),
    row(
        "Ｅ００３",
        "鈴木 次郎",
        "ｓｕｚｕｋｉ＠ｅｘａｍｐｌｅ．ｃｏ．ｊｐ",
        "",
        "システム管理者",
        "",
        "本社; 東京～大阪支店",
    ),
]
EXPECTED = [
    CsvRow(2, "E001", "髙橋 一郎", "takahashi@example.co.jp", "本社/営業部/第①課", "manager", ("本社/営業部/第①課",)),
    CsvRow(3, "E002", "山田, 花子", None, "東京～大阪支店", "learner", ()),
    CsvRow(4, "E003", "鈴木 次郎", "suzuki@example.co.jp", None, "admin", ("本社", "東京～大阪支店")),
]


@pytest.mark.parametrize(
    ("encoding", "delimiter", "label"),
    [
        ("utf-8", ",", "UTF-8"),
        ("utf-8-sig", ",", "UTF-8 (BOM 付き)"),
        ("cp932", ",", "Shift_JIS (CP932)"),
        ("utf-16", "\t", "UTF-16"),
    ],
)
def test_every_encoding_excel_writes_gives_the_same_rows(encoding: str, delimiter: str, label: str) -> None:
    parsed = parse(SAMPLE, encoding=encoding, delimiter=delimiter)
    assert parsed.errors == []
    assert parsed.rows == EXPECTED
    assert parsed.encoding == encoding
    assert f"文字コード: {label}" in parsed.notes


def test_the_cp932_sample_really_needs_cp932() -> None:
    with pytest.raises(UnicodeEncodeError):
        "髙橋".encode("shift_jis")
    assert parse_employee_csv(csv_bytes(SAMPLE, encoding="cp932")).encoding == "cp932"


@pytest.mark.parametrize(
    "data",
    [
        csv_bytes([row()]) + b"\x81\x20",  # a CP932 lead byte followed by a space: neither UTF-8 nor CP932
        "社員番号,氏名\r\nE001,佐藤\r\n".encode("utf-16-le"),  # UTF-16 without BOM
    ],
)
def test_unreadable_bytes_are_one_file_error(data: bytes) -> None:
    parsed = parse_employee_csv(data)
    assert parsed.rows == []
    assert [(error.line, error.column, error.message) for error in parsed.errors] == [(None, None, DECODE_ERROR)]


def test_an_xlsx_file_is_recognised() -> None:
    parsed = parse_employee_csv(b"PK\x03\x04" + b"\x00" * 100)
    assert located(parsed) == [(None, None)]
    assert "xlsx" in parsed.errors[0].message


# --- headers ----------------------------------------------------------------------------------------------------


def test_english_headers_are_accepted_whatever_their_case_and_spacing() -> None:
    header = [" Employee_Number ", "NAME", "Email", "department", "Role", "MANAGER", "Managed Departments"]
    parsed = parse(SAMPLE, header=header)
    assert parsed.errors == []
    assert parsed.rows == EXPECTED


def test_unknown_columns_are_ignored_and_named_in_a_note() -> None:
    parsed = parse([["E001", "佐藤", "2020/04/01"]], header=["社員番号", "氏名", "入社日"])
    assert parsed.errors == []
    assert parsed.rows[0].employee_number == "E001"
    assert "列「入社日」は使われません" in parsed.notes


def test_a_missing_required_header_names_it_and_lists_the_headers_found() -> None:
    parsed = parse([["E001", "x@example.com"]], header=["社員番号", "メール"])
    assert located(parsed) == [(None, "氏名")]
    assert "「氏名」" in parsed.errors[0].message
    assert "見つかった列: 社員番号、メール" in parsed.errors[0].message
    assert parsed.rows == []


def test_a_column_given_twice_is_a_file_error() -> None:
    parsed = parse([["E001", "佐藤", "E001"]], header=["社員番号", "氏名", "employee_number"])
    assert located(parsed) == [(None, "社員番号")]


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n", "社員番号,氏名\r\n\r\n".encode()])
def test_a_file_without_employees_is_an_error(data: bytes) -> None:
    parsed = parse_employee_csv(data)
    assert parsed.rows == []
    assert located(parsed) == [(None, None)]


# --- values -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [("Ｅ００１", "E001"), ("ａ－１２＿３", "a-12_3"), (" 0042 ", "0042")])
def test_employee_numbers_are_nfkc_normalised(raw: str, expected: str) -> None:
    assert parse([row(raw)]).rows[0].employee_number == expected


def test_names_have_their_runs_of_spaces_collapsed() -> None:
    assert parse([row(name=" 山田　 　太郎 ")]).rows[0].name == "山田 太郎"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("本社／営業部／第一課", "本社/営業部/第一課"),
        ("本社 > 営業部 > 第一課", "本社/営業部/第一課"),
        (" 本社 / 営業部 ", "本社/営業部"),
    ],
)
def test_department_separators_are_normalised(raw: str, expected: str) -> None:
    assert parse([row(department=raw)]).rows[0].department == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "learner"),
        ("受講者", "learner"),
        ("Learner", "learner"),
        ("管理者", "manager"),
        ("マネージャー", "manager"),
        ("MANAGER", "manager"),
        ("システム管理者", "admin"),
        ("admin", "admin"),
    ],
)
def test_role_values(raw: str, expected: str) -> None:
    managed = "本社" if expected == "manager" else ""
    assert parse([row("E001", "佐藤", "", "", raw, "", managed)]).rows[0].role == expected


@pytest.mark.parametrize(
    ("raw", "manages"),
    [
        *[(value, True) for value in ("1", "１", "○", "◯", "〇", "はい", "YES", "true", "y")],
        *[(value, False) for value in ("", "0", "×", "いいえ", "no", "FALSE", "n")],
    ],
)
def test_manager_flag_values(raw: str, manages: bool) -> None:
    parsed = parse([row("E001", "佐藤", "", "本社/営業部", "", raw, "")])
    assert parsed.errors == []
    assert parsed.rows[0].managed_departments == (("本社/営業部",) if manages else ())
    assert parsed.rows[0].role == ("manager" if manages else "learner")


@pytest.mark.parametrize("separator", [";", "、", "\n", "；"])
def test_managed_departments_are_split_normalised_sorted_and_unique(separator: str) -> None:
    managed = separator.join(["本社／総務部", "本社/人事部", "本社 > 総務部"])
    parsed = parse([row("E001", "佐藤", "", "本社/総務部", "", "1", managed)])
    assert parsed.errors == []
    assert parsed.rows[0].managed_departments == ("本社/人事部", "本社/総務部")
    assert parsed.rows[0].role == "manager"


def test_an_admin_may_manage_departments_or_none() -> None:
    parsed = parse([row("A001", "伊藤", "", "本社", "admin", "1", ""), row("A002", "加藤", "", "", "admin", "", "")])
    assert parsed.errors == []
    assert [(r.role, r.managed_departments) for r in parsed.rows] == [("admin", ("本社",)), ("admin", ())]


def test_emails_are_normalised() -> None:
    assert parse([row(email=" ＹＡＭＡＤＡ＠Example.COM ")]).rows[0].email == "yamada@example.com"


ROLES_LISTED = ("受講者", "管理者", "システム管理者", "learner", "manager", "admin")


@pytest.mark.parametrize(
    ("bad", "column", "fragments"),
    [
        (row(""), "社員番号", ("空",)),
        (row("E 001"), "社員番号", ("「E 001」", "半角英数字")),
        (row("社員1"), "社員番号", ("半角英数字",)),
        (row("-001"), "社員番号", ("半角英数字で始まり",)),
        (row("A" * 51), "社員番号", ("50 文字",)),
        (row("1.23457E+11"), "社員番号", ("Excel", "文字列")),
        (row(name=" 　"), "氏名", ("空",)),
        (row(name="あ" * 101), "氏名", ("101 文字", "100 文字以内")),
        (row(name="山田\n太郎"), "氏名", ("改行",)),
        (row(email="yamada"), "メールアドレス", ("「yamada」", "@")),
        (row(email="a@b@example.com"), "メールアドレス", ("@",)),
        (row(email="yamada@localhost"), "メールアドレス", ("ドメイン",)),
        (row(email="yamada@example..jp"), "メールアドレス", ("ドメイン",)),
        (row(email="@example.com"), "メールアドレス", ("前が空",)),
        (row(email="ya mada@example.com"), "メールアドレス", ("空白",)),
        (row(email="山田@example.com"), "メールアドレス", ("半角",)),
        (row(email="a" * 250 + "@x.jp"), "メールアドレス", ("254 文字",)),
        (row(department="本社//営業部"), "部署", ("空の階層",)),
        (row(department="/本社"), "部署", ("空の階層",)),
        (row(department="/".join("部" * 11)), "部署", ("11 階層", "10 階層以内")),
        (row(department="本社/" + "営" * 101), "部署", ("101 文字",)),
        (row(department="本社\t営業部"), "部署", ("タブ",)),
        (row("E001", "佐藤", "", "", "社長", "", ""), "役割", ("「社長」", *ROLES_LISTED)),
        (row("E001", "佐藤", "", "本社", "", "たぶん", ""), "管理者", ("「たぶん」", "1", "0", "○", "×")),
        (row("E001", "佐藤", "", "", "", "", "本社;/営業部"), "管理部署", ("空の階層",)),
        (row("E001", "佐藤", "", "本社", "受講者", "1", ""), "役割", ("受講者", "管理する部署があります")),
        (row("E001", "佐藤", "", "", "learner", "", "本社"), "役割", ("受講者",)),
        (
            row("E001", "佐藤", "", "本社", "管理者", "0", ""),
            "役割",
            ("管理する部署がありません: 管理者 の列を 1 にするか 管理部署 を書いてください",),
        ),
        (row("E001", "佐藤", "", "", "", "1", ""), "管理者", ("部署 が空",)),
    ],
)
def test_each_invalid_value_is_reported_on_its_line_and_column(
    bad: list[str], column: str, fragments: tuple[str, ...]
) -> None:
    good = row("E100", "正常 太郎")
    parsed = parse([good, bad, row("E101", "正常 花子")])
    assert located(parsed) == [(3, column)]
    for fragment in fragments:
        assert fragment in parsed.errors[0].message
    assert [r.line for r in parsed.rows] == [2, 4 + sum(cell.count("\n") for cell in bad)]


def test_several_problems_on_one_row_are_all_reported() -> None:
    parsed = parse([row("", "", "no-at-sign", "a//b", "社長", "?", "")])
    assert located(parsed) == [
        (2, "社員番号"),
        (2, "氏名"),
        (2, "メールアドレス"),
        (2, "部署"),
        (2, "役割"),
        (2, "管理者"),
    ]


def test_duplicate_employee_numbers_and_emails_are_reported_on_the_later_line() -> None:
    parsed = parse(
        [
            row("E001", "佐藤", "sato@example.com"),
            row("E002", "鈴木", "SATO@example.com"),
            row("Ｅ００１", "田中", "tanaka@example.com"),
        ]
    )
    assert located(parsed) == [(3, "メールアドレス"), (4, "社員番号")]
    assert "2 行目" in parsed.errors[0].message and "2 行目" in parsed.errors[1].message
    assert [r.employee_number for r in parsed.rows] == ["E001"]


# --- CSV structure ----------------------------------------------------------------------------------------------


def test_quoted_commas_and_newlines_keep_the_physical_line_numbers() -> None:
    text = (
        "社員番号,氏名,部署,備考\r\n"
        'E001,"佐藤, 一郎",本社,"一行目\r\n二行目, 続き\r\n三行目"\r\n'
        "E002,鈴木 花子,本社,\r\n"
        '"E003","田中\n次郎",本社,\r\n'
        "E004,加藤,本社,\r\n"
    )
    parsed = parse_employee_csv(text.encode())
    assert [(r.line, r.employee_number, r.name) for r in parsed.rows] == [
        (2, "E001", "佐藤, 一郎"),
        (5, "E002", "鈴木 花子"),
        (8, "E004", "加藤"),
    ]
    assert located(parsed) == [(6, "氏名")]


def test_lf_line_endings_empty_rows_and_trailing_empty_lines() -> None:
    text = "社員番号,氏名\nE001,佐藤\n\n,\n , \nE002,鈴木\n\n\n"
    parsed = parse_employee_csv(text.encode())
    assert parsed.errors == []
    assert [(r.line, r.employee_number) for r in parsed.rows] == [(2, "E001"), (6, "E002")]


def test_wrong_cell_counts_name_the_line() -> None:
    text = "社員番号,氏名,部署\r\nE001,佐藤\r\nE002,鈴木,本社,余計\r\nE003,田中,本社,,\r\nE004,加藤,本社\r\n"
    parsed = parse_employee_csv(text.encode())
    assert located(parsed) == [(2, None), (3, None)]
    assert "足りません" in parsed.errors[0].message and "多すぎます" in parsed.errors[1].message
    assert [r.employee_number for r in parsed.rows] == ["E003", "E004"]  # trailing empty cells are Excel's habit


def test_an_unclosed_quote_points_at_the_lines_it_swallowed() -> None:
    text = '社員番号,氏名,部署\r\nE001,"佐藤,本社\r\nE002,鈴木,本社\r\n'
    parsed = parse_employee_csv(text.encode())
    assert located(parsed) == [(2, None)]
    assert "2〜3 行目" in parsed.errors[0].message and "閉じ忘れ" in parsed.errors[0].message


def test_tab_separated_utf8_is_read_too() -> None:
    parsed = parse_employee_csv("社員番号\t氏名\t部署\nE001\t佐藤, 一郎\t本社\n".encode())
    assert parsed.errors == []
    assert parsed.rows[0].name == "佐藤, 一郎"


def test_files_over_5_mb_are_refused() -> None:
    data = csv_bytes([row()]) + b" " * (5 * 1024 * 1024)
    parsed = parse_employee_csv(data)
    assert located(parsed) == [(None, None)] and "5 MB" in parsed.errors[0].message


def test_files_over_50000_rows_are_refused() -> None:
    rows = [[f"E{i}", "社員"] for i in range(MAX_ROWS + 1)]
    parsed = parse(rows, header=["社員番号", "氏名"])
    assert parsed.rows == []
    assert located(parsed) == [(None, None)] and "50,000" in parsed.errors[0].message


def test_exactly_50000_rows_are_accepted() -> None:
    parsed = parse([[f"E{i}", "社員"] for i in range(MAX_ROWS)], header=["社員番号", "氏名"])
    assert parsed.errors == [] and len(parsed.rows) == MAX_ROWS


def test_a_200_employee_cp932_file_parses_cleanly() -> None:
    departments = ["本社/営業部/第①課", "本社/営業部/第②課", "本社/総務部", "大阪支店～神戸営業所"]
    rows = []
    for i in range(200):
        department = departments[i % len(departments)]
        is_head = i % 20 == 0
        email = f"staff{i:03d}@example.co.jp" if i % 3 else ""
        rows.append([f"{i:05d}", f"髙橋　{i}号", email, department, "", "○" if is_head else "", ""])
    parsed = parse(rows, encoding="cp932")
    assert parsed.errors == []
    assert len(parsed.rows) == 200
    assert parsed.encoding == "cp932"
    assert sum(r.role == "manager" for r in parsed.rows) == 10
    assert parsed.employee_numbers == frozenset(f"{i:05d}" for i in range(200))


# --- planning ---------------------------------------------------------------------------------------------------

ACTING_ADMIN = 6
EXISTING = [
    ExistingUser(1, None, "first-admin@example.com", "初期 管理者", None, "admin", True, ()),
    ExistingUser(2, "E001", "sato@example.com", "佐藤 一郎", "本社/営業部", "learner", True, ()),
    ExistingUser(3, "E002", "suzuki@example.com", "鈴木 花子", "本社/総務部", "manager", True, ("本社/総務部",)),
    ExistingUser(4, "E003", None, "田中 次郎", "本社/営業部", "learner", False, ()),
    ExistingUser(5, "E004", "kato@example.com", "加藤 三郎", "本社", "learner", True, ()),
    ExistingUser(ACTING_ADMIN, "A001", "admin@example.com", "伊藤 管理", "本社", "admin", True, ()),
    ExistingUser(7, "E009", "gone@example.com", "退職 済子", "本社", "learner", False, ()),
]
FILE = [
    row("E001", "佐藤 一郎", "sato@example.com", "本社/営業部", "", "", ""),
    row("E002", "鈴木 花子", "suzuki@example.com", "本社/人事部", "", "1", ""),
    row("E003", "田中 次郎", "", "本社/営業部", "", "", ""),
    row("E005", "新人 五郎", "new@example.com", "本社/営業部", "", "", ""),
    row("A001", "伊藤 管理", "admin@example.com", "本社", "システム管理者", "", ""),
]


def plan(
    rows: list[list[str]] = FILE,
    existing: list[ExistingUser] = EXISTING,
    *,
    deactivate_missing: bool = True,
    acting_user_id: int | None = ACTING_ADMIN,
    **kwargs: object,
) -> ImportPlan:
    return plan_import(
        parse(rows, **kwargs), existing, deactivate_missing=deactivate_missing, acting_user_id=acting_user_id
    )


def apply(result: ImportPlan, existing: list[ExistingUser]) -> list[ExistingUser]:
    """What the caller's apply step does to the users table, on the snapshot."""
    users = {user.id: user for user in existing}
    next_id = max(users, default=0) + 1
    for change in [*result.creates, *result.updates]:
        data = change.row
        assert data is not None
        values = {
            "employee_number": data.employee_number,
            "email": data.email,
            "name": data.name,
            "department": data.department,
            "role": data.role,
            "is_active": True,
            "managed_departments": data.managed_departments,
        }
        if change.user_id is None:
            users[next_id] = ExistingUser(id=next_id, **values)  # type: ignore[arg-type]
            next_id += 1
        else:
            users[change.user_id] = replace(users[change.user_id], **values)  # type: ignore[arg-type]
    for change in result.deactivations:
        assert change.user_id is not None
        users[change.user_id] = replace(users[change.user_id], is_active=False)
    return list(users.values())


def test_plan_sorts_rows_into_creates_updates_reactivations_deactivations_and_unchanged() -> None:
    result = plan()
    assert result.ok
    assert [(c.kind, c.line, c.employee_number, c.user_id) for c in result.creates] == [("create", 5, "E005", None)]
    assert [(c.kind, c.line, c.employee_number, c.user_id) for c in result.updates] == [
        ("update", 3, "E002", 3),
        ("reactivate", 4, "E003", 4),
    ]
    assert [(c.kind, c.line, c.employee_number, c.user_id) for c in result.deactivations] == [
        ("deactivate", None, "E004", 5)
    ]
    assert result.unchanged == 2  # E001 and A001; users without employee number and inactive ones are left alone
    assert result.updates[0].changes == (
        FieldChange("department", "本社/総務部", "本社/人事部"),
        FieldChange("managed_departments", "本社/総務部", "本社/人事部"),
    )
    assert result.updates[1].changes == (FieldChange("is_active", "false", "true"),)
    assert result.creates[0].changes == (
        FieldChange("name", None, "新人 五郎"),
        FieldChange("email", None, "new@example.com"),
        FieldChange("department", None, "本社/営業部"),
        FieldChange("role", None, "learner"),
    )
    assert result.deactivations[0].changes == (FieldChange("is_active", "true", "false"),)
    assert result.deactivations[0].row is None


def test_without_deactivate_missing_nobody_is_deactivated() -> None:
    result = plan(deactivate_missing=False)
    assert result.deactivations == []
    assert len(result.creates) == 1 and len(result.updates) == 2


def test_deactivations_are_ordered_by_employee_number_and_changes_by_line() -> None:
    existing = [ExistingUser(i, number, None, number, None, "learner", True, ()) for i, number in enumerate("CAB")]
    result = plan([row("Z2", "z"), row("Z1", "y")], existing, acting_user_id=None)
    assert [c.employee_number for c in result.deactivations] == ["A", "B", "C"]
    assert [c.line for c in result.creates] == [2, 3]


def test_the_acting_user_is_never_deactivated() -> None:
    result = plan(FILE[:4])  # A001, the acting admin, is not in the file
    assert [c.employee_number for c in result.deactivations] == ["E004"]
    assert any("A001" in note for note in result.notes)


def test_the_acting_admin_cannot_demote_themselves() -> None:
    rows = [*FILE[:4], row("A001", "伊藤 管理", "admin@example.com", "本社", "受講者", "", "")]
    result = plan(rows)
    assert not result.ok
    assert located(result) == [(6, "役割")]
    assert result.updates[-1].changes == (FieldChange("role", "admin", "learner"),)  # still shown
    assert plan(rows, acting_user_id=None).ok  # another admin may


def test_an_email_held_by_another_employee_is_a_conflict_naming_them() -> None:
    result = plan([*FILE, row("E006", "別人", "kato@example.com")])
    assert located(result) == [(7, "メールアドレス")]
    assert "E004" in result.errors[0].message
    assert len(result.creates) == 2  # the plan still shows everything


def test_an_email_held_by_an_account_without_employee_number_is_a_conflict() -> None:
    result = plan([*FILE, row("E006", "初期 管理者", "First-Admin@example.com")])
    assert located(result) == [(7, "メールアドレス")]
    assert "社員番号のないアカウント" in result.errors[0].message


def test_an_email_held_by_an_inactive_employee_is_still_taken() -> None:
    result = plan([*FILE, row("E006", "新人", "gone@example.com")])
    assert located(result) == [(7, "メールアドレス")]
    assert "E009" in result.errors[0].message and "無効" in result.errors[0].message


def test_two_employees_may_swap_emails_in_one_file() -> None:
    rows = [
        row("E001", "佐藤 一郎", "suzuki@example.com", "本社/営業部"),
        row("E002", "鈴木 花子", "sato@example.com", "本社/総務部", "", "1", ""),
    ]
    result = plan(rows, deactivate_missing=False)
    assert result.ok
    assert [c.changes for c in result.updates] == [
        (FieldChange("email", "sato@example.com", "suzuki@example.com"),),
        (FieldChange("email", "suzuki@example.com", "sato@example.com"),),
    ]


def test_an_email_removed_from_its_holder_is_free_for_someone_else() -> None:
    rows = [row("E004", "加藤 三郎", "", "本社"), row("E006", "新人", "kato@example.com")]
    assert plan(rows, deactivate_missing=False).ok


def test_a_deactivated_employee_keeps_the_email() -> None:
    result = plan([row("E006", "新人", "kato@example.com")], deactivate_missing=True)
    assert located(result) == [(2, "メールアドレス")]


def test_absent_optional_columns_leave_those_fields_alone() -> None:
    rows = [["E002", "鈴木 花子 改"], ["E006", "新人"]]
    result = plan(rows, header=["社員番号", "氏名"], deactivate_missing=False)
    assert result.ok
    assert [c.changes for c in result.updates] == [(FieldChange("name", "鈴木 花子", "鈴木 花子 改"),)]
    assert result.updates[0].row == CsvRow(
        2, "E002", "鈴木 花子 改", "suzuki@example.com", "本社/総務部", "manager", ("本社/総務部",)
    )
    assert result.creates[0].row == CsvRow(3, "E006", "新人", None, None, "learner", ())


def test_without_a_role_column_the_role_follows_the_manager_columns_but_admins_stay_admins() -> None:
    rows = [
        ["E001", "佐藤 一郎", "本社/営業部", "1"],
        ["E002", "鈴木 花子", "本社/総務部", ""],
        ["A001", "伊藤 管理", "本社", "1"],
    ]
    result = plan(rows, header=["社員番号", "氏名", "部署", "管理者"], deactivate_missing=False)
    assert result.ok
    assert [(c.employee_number, c.changes) for c in result.updates] == [
        ("E001", (FieldChange("role", "learner", "manager"), FieldChange("managed_departments", None, "本社/営業部"))),
        ("E002", (FieldChange("role", "manager", "learner"), FieldChange("managed_departments", "本社/総務部", None))),
        ("A001", (FieldChange("managed_departments", None, "本社"),)),
    ]
    assert any("役割" in note for note in result.notes)


def test_managed_departments_are_compared_as_sets() -> None:
    existing = [ExistingUser(1, "E001", None, "佐藤", "本社", "manager", True, ("本社/b", "本社/a", "本社/a"))]
    result = plan([row("E001", "佐藤", "", "本社", "", "", "本社/a;本社/b")], existing)
    assert result.is_empty and result.unchanged == 1


def test_a_plan_with_errors_lists_what_it_could_and_deactivates_nobody_whose_row_failed() -> None:
    rows = [*FILE, row("E004", "加藤 三郎", "not-an-email", "本社")]
    result = plan(rows)
    assert not result.ok
    assert located(result) == [(7, "メールアドレス")]
    assert result.deactivations == []  # E004 is in the file, only their row is wrong
    assert len(result.creates) == 1 and len(result.updates) == 2


@pytest.mark.parametrize("bad", [row("", "名無し"), ["E004", "加藤 三郎"]])
def test_when_some_row_has_no_readable_employee_number_nobody_is_deactivated(bad: list[str]) -> None:
    result = plan([*FILE, bad])
    assert not result.ok
    assert result.deactivations == []
    assert any("無効にする社員" in note for note in result.notes)


def test_a_file_level_error_plans_nothing() -> None:
    result = plan_import(
        parse_employee_csv(b"\x81\x20"), EXISTING, deactivate_missing=True, acting_user_id=ACTING_ADMIN
    )
    assert not result.ok and result.is_empty


def test_digest_is_stable_and_changes_with_any_field() -> None:
    first, second = plan(), plan()
    assert first.digest() == first.digest() == second.digest()
    assert len(first.digest()) == 64
    renamed = [*FILE[:3], row("E005", "新人 六郎", "new@example.com", "本社/営業部"), FILE[4]]
    assert plan(renamed).digest() != first.digest()
    assert plan(deactivate_missing=False).digest() != first.digest()


def test_planning_the_same_file_after_applying_it_changes_nothing() -> None:
    result = plan()
    assert result.ok and not result.is_empty
    after = apply(result, EXISTING)
    again = plan(existing=after)
    assert again.ok
    assert again.is_empty
    assert again.unchanged == len(FILE)
    assert plan(existing=apply(again, after)).digest() == again.digest()


def test_a_cp932_file_round_trips_through_plan_and_apply() -> None:
    rows = [
        row("00001", "髙橋 一郎", "taka@example.co.jp", "本社/営業部/第①課", "", "1", "大阪支店～神戸"),
        row("00002", "﨑田 花子", "", "本社/営業部/第①課"),
    ]
    result = plan(rows, [], acting_user_id=None, encoding="cp932")
    assert result.ok and len(result.creates) == 2
    assert plan(rows, apply(result, []), acting_user_id=None, encoding="cp932").is_empty
