"""Content validation errors, worded in Japanese for the people who write course packs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.errors import InvalidInput


@dataclass(frozen=True)
class ContentError:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class PackInvalid(InvalidInput):
    def __init__(self, errors: list[ContentError]) -> None:
        self.errors = errors
        super().__init__(f"コースパックに {len(errors)} 件の問題があります。")


_MESSAGES = {
    "missing": "必須の項目がありません",
    "extra_forbidden": "この項目は使えません(綴りを確認してください)",
    "string_type": "文字列にしてください",
    "string_too_short": "空にはできません",
    "string_too_long": "長すぎます({max_length} 文字まで)",
    "string_pattern_mismatch": "形式が正しくありません(半角英小文字・数字・- で書いてください)",
    "int_type": "整数にしてください",
    "int_parsing": "整数にしてください",
    "bool_type": "true か false にしてください",
    "bool_parsing": "true か false にしてください",
    "greater_than_equal": "{ge} 以上にしてください",
    "less_than_equal": "{le} 以下にしてください",
    "too_short": "{min_length} 個以上必要です",
    "too_long": "{max_length} 個までです",
    "list_type": "リスト(- で始まる行の並び)にしてください",
    "dict_type": "「項目: 値」の形にしてください",
    "model_type": "「項目: 値」の形にしてください",
    "union_tag_invalid": "type「{tag}」は使えません(使えるのは {expected_tags})",
    "union_tag_not_found": "type(問題の種類)がありません",
    "enum": "{expected} のいずれかにしてください",
    "float_type": "数値にしてください",
    "float_parsing": "数値にしてください",
}


def pydantic_message(problem: dict[str, Any]) -> str:
    kind = problem.get("type", "")
    if kind == "value_error":
        return str(problem.get("ctx", {}).get("error", problem.get("msg", "")))
    template = _MESSAGES.get(kind)
    if template is None:
        return str(problem.get("msg", kind))
    try:
        return template.format(**problem.get("ctx", {}))
    except (KeyError, IndexError):
        return template
