"""The step/field description shared by the policy wizard and the manual form, form parsing, and Markdown escaping.

Pure functions only: no database, no HTTP. Routes render `Step.fields`, post the values back, and call
`parse_step_form`; the document generators call `md_inline`/`md_paragraphs` on every value an admin typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel

MAX_LINES = 30
UNKNOWN_CHOICE = "選択肢にない値です"

# Characters that can start or close Markdown inline markup wherever they stand: code, emphasis, links and
# images (via `[`), autolinks and raw HTML (via `<`), table cells, strikethrough, hard line breaks (`\`).
# Every `{` is escaped so that no `{{` can survive and be read as a template variable.
_ALWAYS = re.compile(r"([\\`*_\[\]<|~{])")
# Only dangerous at the start of a line: headings, blockquotes, list items, thematic breaks, setext
# underlines, admonitions (`!!!`).
_LINE_START = re.compile(r"^([#>+\-=!])")
_ORDERED_ITEM = re.compile(r"^(\d{1,9})([.)])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


@dataclass(frozen=True)
class Option:
    key: str
    label: str
    text: str = ""

    @property
    def sentence(self) -> str:
        """The words the generated document uses for this option."""
        return self.text or self.label


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: Literal["text", "textarea", "choices", "lines"]
    help: str = ""
    options: tuple[Option, ...] = ()
    required: bool = False
    max_length: int = 2000
    placeholder: str = ""

    def option(self, key: str) -> Option | None:
        return next((option for option in self.options if option.key == key), None)

    def chosen(self, keys: Iterable[str]) -> list[Option]:
        """The options whose keys are in `keys`, in the order the form shows them."""
        wanted = set(keys)
        return [option for option in self.options if option.key in wanted]


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    intro: str
    fields: tuple[Field, ...]


def text_field(
    name: str, label: str, *, max_length: int, help: str = "", required: bool = False, placeholder: str = ""
) -> Field:
    """A one-line text field of a step."""
    return Field(name, label, "text", help=help, required=required, max_length=max_length, placeholder=placeholder)


def md_escape(text: str) -> str:
    """Backslash-escape what Markdown would read as markup, line by line; Japanese text is left as it is.

    Leading whitespace is dropped (four spaces would start a code block) and trailing whitespace too (two
    spaces would make a hard break)."""
    lines = []
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _ALWAYS.sub(r"\\\1", raw.strip())
        line = _ENTITY.sub(r"\\&", line)
        line = _LINE_START.sub(r"\\\1", line)
        line = _ORDERED_ITEM.sub(r"\1\\\2", line)
        lines.append(line)
    return "\n".join(lines)


def md_inline(text: str) -> str:
    """One escaped line, for a table cell, a list item or a sentence: line breaks become spaces."""
    return md_escape(" ".join(part.strip() for part in text.splitlines() if part.strip()))


def md_paragraphs(text: str) -> str:
    """Each non-empty line of a textarea as its own escaped paragraph."""
    return "\n\n".join(md_escape(line) for line in text.splitlines() if line.strip())


def document_body(markdown_text: str) -> str:
    """The document without its leading `# title` line.

    The shared sanitiser does not allow `<h1>`, so a page shows the title itself (from `policy_title` or
    `manual_title`) and renders only the body."""
    lines = markdown_text.lstrip("\n").split("\n")
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join(lines).lstrip("\n")


def _one_line(value: str) -> str:
    return re.sub(r"\s*[\r\n]+\s*", " ", value).strip()


def _parse_field(field: Field, submitted: list[str]) -> tuple[object, str | None]:
    if field.kind == "choices":
        unknown = [key for key in submitted if field.option(key) is None]
        keys = [option.key for option in field.chosen(submitted)]
        if unknown:
            return keys, UNKNOWN_CHOICE
        if field.required and not keys:
            return keys, "1つ以上選んでください"
        return keys, None
    if field.kind == "lines":
        joined = "\n".join(submitted).replace("\r\n", "\n").replace("\r", "\n")
        lines = [line.strip() for line in joined.split("\n") if line.strip()]
        if field.required and not lines:
            return lines, "1行以上入力してください"
        if len(lines) > MAX_LINES:
            return lines, f"{MAX_LINES}行以内で入力してください"
        if any(len(line) > field.max_length for line in lines):
            return lines, f"1行{field.max_length}文字以内で入力してください"
        return lines, None
    value = submitted[0] if submitted else ""
    value = _one_line(value) if field.kind == "text" else value.replace("\r\n", "\n").strip()
    if field.required and not value:
        return value, "入力してください"
    if len(value) > field.max_length:
        return value, f"{field.max_length}文字以内で入力してください"
    return value, None


def parse_step_form(step: Step, form: dict[str, list[str]]) -> tuple[dict[str, object], dict[str, str]]:
    """Turn submitted form values for one step into {field name: value} and {field name: Japanese error}.

    A field missing from the form is empty (an unticked checkbox group sends nothing). The values are
    returned even for fields with an error, so the form can be shown again as the admin typed it."""
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    for field in step.fields:
        value, error = _parse_field(field, form.get(field.name, []))
        values[field.name] = value
        if error:
            errors[field.name] = error
    return values, errors


def is_empty(value: object) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return not value


def missing_fields(steps: Iterable[Step], answers: BaseModel) -> list[tuple[Step, Field]]:
    """Required fields that are still empty, in form order."""
    return [
        (step, field)
        for step in steps
        for field in step.fields
        if field.required and is_empty(getattr(answers, field.name))
    ]


def form_value(field: Field, value: object) -> str | list[str]:
    """What to put back into the form: a textarea holds `lines` one per line, checkboxes take the key list."""
    items = [str(item) for item in value] if isinstance(value, list | tuple) else []
    if field.kind == "lines":
        return "\n".join(items)
    if field.kind == "choices":
        return items
    return str(value or "")
