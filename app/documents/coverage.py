"""Which part of each document covers each of the guideline's measures (guideline.py), as checks on a draft.

The policy is judged on the wizard's answers: a measure is covered when the choices and fields that state it are
ticked and filled. The manual is judged on its text as the admin edited it (headings and the words that carry a
measure) and on the contacts it needs; measures that belong to the policy point at the policy's step. Where the
rest of a measure is done outside the document (training, the manual, the HR self-check), the rule says so.
"""

from __future__ import annotations

from typing import Any

from app.documents.builder import PolicyAnswers
from app.documents.guideline import Check, Checklist, Rule, evaluate
from app.documents.kinds import TEMPLATE_STEP, TEMPLATE_TITLE
from app.documents.manual import MANUAL_STEPS, ManualAnswers
from app.documents.policy_steps import POLICY_STEPS
from app.documents.wizard import Field, Step, is_empty

TITLES = {
    "policy": {step.key: step.title for step in POLICY_STEPS},
    "manual": {**{step.key: step.title for step in MANUAL_STEPS}, TEMPLATE_STEP: TEMPLATE_TITLE},
}


def _find(steps: tuple[Step, ...], name: str) -> tuple[Step, Field]:
    return next((step, field) for step in steps for field in step.fields if field.name == name)


def _filled(steps: tuple[Step, ...], name: str) -> Check:
    step, field = _find(steps, name)
    return Check(
        step.key, f"「{field.label}」を入力してください。", lambda answers, _text: not is_empty(getattr(answers, name))
    )


def _ticked(name: str, key: str) -> Check:
    step, field = _find(POLICY_STEPS, name)
    option = field.option(key)
    assert option is not None, (name, key)
    return Check(
        step.key,
        f"「{field.label}」で「{option.label}」を選んでください。",
        lambda answers, _text: key in getattr(answers, name),
    )


def _any_ticked(name: str, *keys: str) -> Check:
    """At least one of `keys` (or, with none given, of all the field's options) is ticked."""
    step, field = _find(POLICY_STEPS, name)
    wanted = keys or tuple(option.key for option in field.options)
    labels = "か".join(f"「{option.label}」" for option in field.options if option.key in wanted)
    which = f"{labels}を" if keys else "1つ以上"
    return Check(
        step.key,
        f"「{field.label}」で{which}選んでください。",
        lambda answers, _text: any(key in getattr(answers, name) for key in wanted),
    )


def _heading(title: str) -> Check:
    def met(_answers: Any, text: str) -> bool:
        return any(title in line for line in text.splitlines() if line.startswith("#"))

    return Check(TEMPLATE_STEP, f"本文に「{title}」の見出しを入れてください。", met)


def _mentions(words: str) -> Check:
    return Check(TEMPLATE_STEP, f"本文に「{words}」について書いてください。", lambda _answers, text: words in text)


_examples = Check(
    "definition",
    "「対象となる行為の例」を選ぶか、「追加・言い換えたい行為」に書いてください。",
    lambda answers, _text: bool(answers.behaviours or answers.behaviours_extra),
)
_CARE = ("not_alone", "rotate", "rest", "counseling", "follow_up")  # "training" is prevention, not care
_MANUAL_COUNTER = "応対マニュアルの「線を引く前に確かめること」に、現場での確かめ方を書きます。"

POLICY_RULES: tuple[Rule, ...] = (
    Rule("policy_written", (_filled(POLICY_STEPS, "stance"), _filled(POLICY_STEPS, "definition"))),
    Rule("policy_examples", (_examples, _ticked("considerations", "legitimate"))),
    Rule(
        "policy_announced",
        (_ticked("publish", "staff"),),
        note="公開すると、対象の全員のマイ研修に必読の文書として届き、誰がどの版を確認したかが残ります。"
        "管理監督者の動き方は、基礎編 Lesson 4 で学べます。",
    ),
    Rule(
        "response_announced",
        (_any_ticked("responses"), _ticked("publish", "staff")),
        note="現場での進め方は、応対マニュアルに書きます。",
    ),
    Rule(
        "desk",
        (_filled(POLICY_STEPS, "desk_name"), _filled(POLICY_STEPS, "desk_contact")),
        note="応対マニュアルの「エスカレーションと連絡先」にも載せます。",
    ),
    Rule("gray_cases", (_ticked("desk_promises", "gray_cases"),)),
    Rule(
        "desk_training",
        (_ticked("desk_support", "desk_manual"),),
        note="担当者向けの手引きと研修そのものは、方針とは別に用意します"
        "(基礎編の付録「人事・総務のためのセルフチェック」の2で確かめられます)。",
    ),
    Rule(
        "desk_coordination", (_ticked("desk_support", "desk_coordination"), _filled(POLICY_STEPS, "escalation_second"))
    ),
    Rule(
        "fact_finding",
        (_ticked("investigation", "both_sides"), _ticked("records", "details")),
        note="現場での手順は、応対マニュアルの「事実確認」と「記録のチェックリスト」に書きます。",
    ),
    Rule(
        "victim_care",
        (_any_ticked("care", *_CARE),),
        note="対応のあとの動き方は、応対マニュアルの「従業員のケア」に書きます。",
    ),
    Rule(
        "recurrence",
        (_ticked("records", "review"), _filled(POLICY_STEPS, "review")),
        note="事例の振り返りは応対マニュアルの「事例の検証」で行い、"
        "年に一度は基礎編の付録「人事・総務のためのセルフチェック」で見直します。",
    ),
    Rule(
        "deterrence",
        (
            _ticked("responses", "warn"),
            _ticked("responses", "ban"),
            _ticked("outside", "call_110"),
            _filled(POLICY_STEPS, "escalation_final"),
        ),
        note="現場での進め方は、応対マニュアルの「対応の終了の進め方」と「すぐに110番通報する場面」に書きます。",
    ),
    Rule("within_law", (_ticked("response_safeguards", "within_law"),), note=_MANUAL_COUNTER),
    Rule(
        "shown_to_customers",
        (_ticked("responses", "record"), _ticked("responses", "end"), _any_ticked("publish", "website", "store")),
    ),
    Rule("privacy", (_ticked("desk_promises", "privacy"),)),
    Rule("no_retaliation", (_ticked("desk_promises", "no_retaliation"),)),
    Rule("consumer_rights", (_ticked("considerations", "legitimate"),), note=_MANUAL_COUNTER),
    Rule("disability", (_ticked("considerations", "disability"),), note=_MANUAL_COUNTER),
    Rule("communication", (_ticked("considerations", "communication"),), note=_MANUAL_COUNTER),
    Rule("service_duty", (_ticked("response_safeguards", "service_duty"),), note=_MANUAL_COUNTER),
    Rule(
        "employer_duty",
        (_ticked("other_companies", "own_staff"),),
        note="購買・営業などの担当者向けの研修は、実践編 Lesson 6 で扱います。",
    ),
    Rule(
        "cooperation",
        (_ticked("other_companies", "cooperate"), _filled(POLICY_STEPS, "cooperation_desk")),
        note="協力を求められたときの進め方は、基礎編 Lesson 4 と実践編 Lesson 6 で学べます。",
    ),
)


def _in_text(*sections: str) -> str:
    return "同梱のひな形では、" + "と".join(f"「{section}」" for section in sections) + "に書いています。"


_AT_COUNTER = _in_text("線を引く前に確かめること")
_AFTERCARE = _in_text("従業員のケアと事例の検証")
_IN_POLICY = "基本方針で定めます。"
MANUAL_RULES: tuple[Rule, ...] = (
    Rule("policy_written", step="stance", note=_IN_POLICY),
    Rule("policy_examples", step="definition", note=_IN_POLICY),
    Rule(
        "policy_announced",
        step="publish",
        note="基本方針で定めます。この応対マニュアルも、公開すると対象の全員に必読の文書として届きます。",
    ),
    Rule(
        "response_announced",
        (_heading("対応の基本フロー"), _heading("対応の終了の進め方")),
        note=_in_text("対応の基本フロー", "対応の終了の進め方"),
    ),
    Rule(
        "desk",
        (
            _heading("エスカレーションと連絡先"),
            _filled(MANUAL_STEPS, "care_desk"),
            _filled(MANUAL_STEPS, "care_contact"),
        ),
        note=_in_text("エスカレーションと連絡先"),
    ),
    Rule("gray_cases", (_mentions("迷ったら"),), note=_in_text("目的と基本姿勢")),
    Rule("desk_training", step="desk", note="基本方針で定め、担当者向けの手引きと研修は別に用意します。"),
    Rule(
        "desk_coordination",
        (
            _heading("エスカレーション"),
            _filled(MANUAL_STEPS, "supervisor_role"),
            _filled(MANUAL_STEPS, "supervisor_contact"),
            _filled(MANUAL_STEPS, "desk_name"),
            _filled(MANUAL_STEPS, "desk_phone"),
        ),
        note=_in_text("エスカレーションと連絡先"),
    ),
    Rule(
        "fact_finding",
        (_heading("事実確認"), _heading("記録のチェックリスト"), _filled(MANUAL_STEPS, "record_retention")),
        note=_in_text("対応の基本フロー", "記録のチェックリスト"),
    ),
    Rule("victim_care", (_heading("従業員のケア"), _filled(MANUAL_STEPS, "care_desk")), note=_AFTERCARE),
    Rule("recurrence", (_heading("事例の検証"),), note=_AFTERCARE),
    Rule(
        "deterrence",
        (
            _heading("すぐに110番通報する場面"),
            _heading("対応の終了の進め方"),
            _filled(MANUAL_STEPS, "police_station"),
            _filled(MANUAL_STEPS, "police_phone"),
        ),
        note=_in_text("すぐに110番通報する場面", "対応の終了の進め方"),
    ),
    Rule("within_law", (_mentions("法令の範囲内"),), note=_AT_COUNTER),
    Rule("shown_to_customers", step="response", note="お客様に向けては、基本方針で示します。"),
    Rule("privacy", (_mentions("プライバシー"),), note=_AFTERCARE),
    Rule("no_retaliation", (_mentions("不利益な取扱い"),), note=_AFTERCARE),
    Rule("consumer_rights", (_mentions("正当な権利"),), note=_AT_COUNTER),
    Rule("disability", (_mentions("合理的配慮"), _mentions("建設的対話")), note=_AT_COUNTER),
    Rule("communication", (_mentions("認知症"),), note=_AT_COUNTER),
    Rule("service_duty", (_mentions("提供が法令で求められている"),), note=_AT_COUNTER),
    Rule("employer_duty", step="outside", note="基本方針で定め、研修は実践編 Lesson 6 で扱います。"),
    Rule("cooperation", step="outside", note=_IN_POLICY),
)


def policy_checklist(answers: PolicyAnswers) -> Checklist:
    """Every measure of the guideline, and whether this draft of the policy states it."""
    return evaluate(POLICY_RULES, kind="policy", other_kind="manual", titles=TITLES, answers=answers)


def manual_checklist(answers: ManualAnswers, template: str) -> Checklist:
    """Every measure of the guideline, and whether this draft of the manual (its answers and its text) covers it
    or leaves it to the policy."""
    return evaluate(MANUAL_RULES, kind="manual", other_kind="policy", titles=TITLES, answers=answers, text=template)
