"""Planning an HR import: compare a parsed employee CSV with a snapshot of the users, and say who is created,
updated, re-activated or deactivated.

Planning is a pure function, like the parsing before it (`csv_reader`), so that the admin can preview the plan, and
the caller applies exactly what was previewed (`ImportPlan.digest`) in one transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace

from app.auth.models import Role
from app.users.csv_reader import ROLE_COLUMNS, CsvRow, ParsedCsv, RowError


@dataclass(frozen=True)
class ExistingUser:
    id: int
    employee_number: str | None  # None for accounts not managed by HR import (e.g. the first admin)
    email: str | None
    name: str
    department: str | None
    role: str
    is_active: bool
    managed_departments: tuple[str, ...]


@dataclass(frozen=True)
class FieldChange:
    field: str  # "name" | "email" | "department" | "role" | "managed_departments" | "is_active"
    old: str | None
    new: str | None  # managed departments as "a; b"; is_active as "true" / "false"


@dataclass(frozen=True)
class PlannedChange:
    kind: str  # "create" | "update" | "deactivate" | "reactivate"
    line: int | None
    employee_number: str
    name: str
    user_id: int | None
    changes: tuple[FieldChange, ...]
    # The final values to store. For updates, fields whose column is absent from the file hold the user's
    # current values, so applying the whole row is safe.
    row: CsvRow | None


@dataclass(frozen=True)
class ImportPlan:
    creates: list[PlannedChange]
    updates: list[PlannedChange]
    deactivations: list[PlannedChange]
    unchanged: int
    errors: list[RowError]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def is_empty(self) -> bool:
        return not (self.creates or self.updates or self.deactivations)

    def digest(self) -> str:
        """A fingerprint of every planned change: the admin confirms a preview, and the apply step re-plans and
        refuses if the digest differs (someone changed the users in between)."""
        changes = [asdict(change) for change in (*self.creates, *self.updates, *self.deactivations)]
        canonical = json.dumps(changes, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def plan_import(
    parsed: ParsedCsv, existing: Sequence[ExistingUser], *, deactivate_missing: bool, acting_user_id: int | None
) -> ImportPlan:
    """Compare the parsed file with a snapshot of the users: who is created, updated, re-activated, deactivated."""
    errors = list(parsed.errors)
    notes = list(parsed.notes)
    by_number = {user.employee_number: user for user in existing if user.employee_number is not None}
    matched = []
    for row in sorted(parsed.rows, key=lambda row: row.line):
        user = by_number.get(row.employee_number)
        matched.append((_complete(row, user, parsed.columns), user))
    errors.extend(_email_conflicts(matched, existing))

    creates: list[PlannedChange] = []
    updates: list[PlannedChange] = []
    unchanged = 0
    for row, user in matched:
        if user is None:
            creates.append(PlannedChange("create", row.line, row.employee_number, row.name, None, _created(row), row))
            continue
        if user.id == acting_user_id and user.role == Role.ADMIN and row.role != Role.ADMIN:
            message = "自分自身の役割を システム管理者 から変えることはできません。別のシステム管理者に依頼してください"
            errors.append(RowError(row.line, "役割", message))
        changes = _differences(user, row)
        if not user.is_active:
            changes = (FieldChange("is_active", "false", "true"), *changes)
            updates.append(PlannedChange("reactivate", row.line, row.employee_number, row.name, user.id, changes, row))
        elif changes:
            updates.append(PlannedChange("update", row.line, row.employee_number, row.name, user.id, changes, row))
        else:
            unchanged += 1

    deactivations: list[PlannedChange] = []
    if deactivate_missing:
        present = parsed.employee_numbers
        if present is None and not parsed.errors:
            present = frozenset(row.employee_number for row in parsed.rows)
        if present is None:
            notes.append("社員番号を読めない行があるため、無効にする社員はエラーを直してから表示します")
        else:
            deactivations = _deactivations(existing, present, acting_user_id, notes)
    errors.sort(key=lambda error: -1 if error.line is None else error.line)
    return ImportPlan(creates, updates, deactivations, unchanged, errors, notes)


def _complete(row: CsvRow, user: ExistingUser | None, columns: frozenset[str]) -> CsvRow:
    """The row with the user's current values in fields whose column the file does not have."""
    if user is None:
        return row
    kept: dict[str, object] = {}
    if "email" not in columns:
        kept["email"] = user.email
    if "department" not in columns:
        kept["department"] = user.department
    if not ROLE_COLUMNS & columns:
        kept["role"] = user.role
        kept["managed_departments"] = tuple(sorted(set(user.managed_departments)))
    elif "role" not in columns and user.role == Role.ADMIN:
        # HR files rarely carry the platform's own admin role: leaving 役割 out must not demote anyone.
        kept["role"] = user.role
    return replace(row, **kept) if kept else row


def _email_conflicts(
    matched: list[tuple[CsvRow, ExistingUser | None]], existing: Sequence[ExistingUser]
) -> list[RowError]:
    # Check against the final state: a user whose own row changes or removes their email frees it.
    final_email = {user.id: _email_key(user.email) for user in existing}
    for row, user in matched:
        if user is not None:
            final_email[user.id] = _email_key(row.email)
    holders = {final_email[user.id]: user for user in existing if final_email[user.id] is not None}
    errors = []
    for row, user in matched:
        holder = holders.get(_email_key(row.email))
        if holder is None or (user is not None and holder.id == user.id):
            continue
        if holder.employee_number is None:
            who = f"社員番号のないアカウント（{holder.name}）"
            hint = "同じ人なら、先にそのアカウントに社員番号「" + row.employee_number + "」を設定してください"
        else:
            who = f"社員番号「{holder.employee_number}」の {holder.name}"
            hint = "どちらかのメールアドレスを直してください"
        if not holder.is_active:
            who += "（無効のアカウント）"
        message = f"メールアドレス「{row.email}」は {who} が使っています。{hint}"
        errors.append(RowError(row.line, "メールアドレス", message))
    return errors


def _email_key(email: str | None) -> str | None:
    return email.strip().lower() if email and email.strip() else None


def _joined(paths: Sequence[str]) -> str | None:
    return "; ".join(sorted(set(paths))) or None


def _created(row: CsvRow) -> tuple[FieldChange, ...]:
    values = [
        ("name", row.name),
        ("email", row.email),
        ("department", row.department),
        ("role", row.role),
        ("managed_departments", _joined(row.managed_departments)),
    ]
    return tuple(FieldChange(field, None, value) for field, value in values if value is not None)


def _differences(user: ExistingUser, row: CsvRow) -> tuple[FieldChange, ...]:
    pairs = [
        ("name", user.name, row.name),
        ("email", user.email, row.email),
        ("department", user.department, row.department),
        ("role", user.role, row.role),
        ("managed_departments", _joined(user.managed_departments), _joined(row.managed_departments)),
    ]
    return tuple(FieldChange(field, old, new) for field, old, new in pairs if old != new)


def _deactivations(
    existing: Sequence[ExistingUser], present: frozenset[str], acting_user_id: int | None, notes: list[str]
) -> list[PlannedChange]:
    deactivations = []
    for user in sorted(existing, key=lambda user: user.employee_number or ""):
        if user.employee_number is None or not user.is_active or user.employee_number in present:
            continue
        if user.id == acting_user_id:
            notes.append(
                f"あなたの社員番号「{user.employee_number}」はファイルにありませんが、あなた自身は無効にしません"
            )
            continue
        change = FieldChange("is_active", "true", "false")
        deactivations.append(
            PlannedChange("deactivate", None, user.employee_number, user.name, user.id, (change,), None)
        )
    return deactivations
