"""The two company documents and the wizard steps each one has."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from app.core.errors import NotFound
from app.documents import builder, manual
from app.documents.wizard import Step


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    steps: tuple[Step, ...]
    answers_model: type[BaseModel]


KINDS = {
    "policy": Kind("policy", "カスタマーハラスメント対策の基本方針", builder.POLICY_STEPS, builder.PolicyAnswers),
    "manual": Kind("manual", "カスタマーハラスメント応対マニュアル", manual.MANUAL_STEPS, manual.ManualAnswers),
}
TEMPLATE_STEP = "template"  # the manual's last step: its whole text, editable
TEMPLATE_TITLE = "本文の編集"


def kind_for(key: str) -> Kind:
    if key not in KINDS:
        raise NotFound("文書が見つかりません。")
    return KINDS[key]


def step_for(kind: Kind, step_key: str) -> Step | None:
    return next((step for step in kind.steps if step.key == step_key), None)
