"""The user form, validated once for the web page (and anything else that creates or edits people)."""

from __future__ import annotations

import re
import unicodedata

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.auth.identifiers import EMPLOYEE_NUMBER, normalise_email, normalise_employee_number
from app.auth.models import Role

MAX_NAME_CHARS = 100
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserForm(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    # Length is checked in _printable_name rather than by Field(min_length=...), whose message is English.
    name: str
    employee_number: str | None = None
    email: str | None = None
    role: str = Role.LEARNER.value
    department_id: int | None = None
    managed_department_ids: list[int] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        if any(unicodedata.category(ch).startswith("C") for ch in value):
            raise ValueError("氏名に制御文字は使えません")
        value = " ".join(value.split())
        if not value:
            raise ValueError("氏名を入力してください")
        if len(value) > MAX_NAME_CHARS:
            raise ValueError(f"氏名は {MAX_NAME_CHARS} 文字以内にしてください")
        return value

    @field_validator("employee_number")
    @classmethod
    def _employee_number(cls, value: str | None) -> str | None:
        value = normalise_employee_number(value or "")
        if not value:
            return None
        if not EMPLOYEE_NUMBER.fullmatch(value):
            raise ValueError("社員番号は半角英数字と - _ で 50 文字までにしてください")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        value = normalise_email(value or "")
        if not value:
            return None
        if len(value) > 254 or not EMAIL.match(value):
            raise ValueError("メールアドレスの形式が正しくありません")
        return value

    @field_validator("role")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in {role.value for role in Role}:
            raise ValueError("役割を選んでください")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> UserForm:
        if not self.email and not self.employee_number:
            raise ValueError("メールアドレスか社員番号のどちらかを入力してください")
        return self
