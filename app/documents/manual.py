"""The response manual (応対マニュアル): a Markdown template with `{{ placeholders }}` and the form that fills them."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from pydantic import BaseModel

from app.content.markdown import substitute_variables, unknown_variables
from app.documents.wizard import Field, Step, md_inline, missing_fields, text_field

MANUAL_TEMPLATE = (Path(__file__).parent / "manual_template.md").read_text(encoding="utf-8")
NOT_FILLED = "〔未記入〕"


_text = partial(text_field, max_length=100)


def _number(name: str, label: str, help: str) -> Field:
    return _text(name, label, help=help, max_length=20)


MANUAL_STEPS: tuple[Step, ...] = (
    Step(
        key="company",
        title="会社と所管",
        intro=(
            "厚生労働省の企業マニュアルは、各社が自社に合った対応方法と手順を定めることを前提にしています。"
            "まず、どの会社の、どの部署が責任を持つマニュアルなのかを決めます。"
        ),
        fields=(
            _text("company_name", "会社名", required=True, placeholder="株式会社○○"),
            _text("manual_owner", "所管部署", placeholder="例: 総務部"),
            _text("issued_on", "作成・改定日", placeholder="例: 2026年4月1日"),
        ),
    ),
    Step(
        key="limits",
        title="対応の目安",
        intro=(
            "通話や面談の時間、要求が繰り返される回数について、国が示した統一の数値基準は確認できていません。"
            "自社の業務の実情に合わせて目安を決め、その根拠も社内で説明できるようにしておきます。"
        ),
        fields=(
            _number(
                "call_limit_minutes",
                "電話の時間の目安(分)",
                "この時間を超えて話が進まなければ、上司に相談して終了を伝えます。",
            ),
            _number(
                "counter_limit_minutes", "窓口・店頭の時間の目安(分)", "平行線のまま超えたら、責任者が引き継ぎます。"
            ),
            _number("visit_limit_minutes", "訪問の所要時間の目安(分)", "訪問の前にお客様へ伝える時間です。"),
            _number("visit_staff_count", "訪問する人数(名以上)", "一人での訪問はさせません。"),
            _number(
                "repeat_limit_count",
                "引き継ぎの目安となる繰り返しの回数",
                "同じ要求がこの回数以上続いたら、上司に引き継ぎます。",
            ),
            _text("record_retention", "記録の保存期間", placeholder="例: 3年間"),
        ),
    ),
    Step(
        key="contacts",
        title="連絡先",
        intro=(
            "現場の従業員が迷わず助けを呼べるよう、段階ごとの担当と連絡先を書き込みます。"
            "暴力や脅迫など緊急のときは110番、緊急ではない警察への相談は #9110 が使えます。"
        ),
        fields=(
            _text("supervisor_role", "一次対応の担当", placeholder="例: 店長・所属長"),
            _text("supervisor_contact", "一次対応の連絡先", placeholder="例: 店舗ごとの内線番号"),
            _text("desk_name", "二次対応の部署", placeholder="例: 本部 お客様相談室"),
            _text("desk_phone", "二次対応の電話番号", placeholder="例: 03-0000-0000"),
            _text("desk_hours", "二次対応の受付時間", placeholder="例: 平日 9時〜18時"),
            _text("legal_name", "法的な検討の担当", placeholder="例: 法務部、顧問弁護士"),
            _text("legal_contact", "法的な検討の連絡先"),
            _text("police_station", "所轄の警察署", placeholder="例: ○○警察署 生活安全課"),
            _text("police_phone", "警察署の電話番号"),
            _text("care_desk", "従業員の相談窓口", placeholder="例: 人事部 ハラスメント相談窓口"),
            _text("care_contact", "相談窓口の連絡先"),
        ),
    ),
)


class ManualAnswers(BaseModel):
    """The company's names, numbers and limits that fill the manual template."""

    company_name: str = ""
    manual_owner: str = ""
    issued_on: str = ""
    call_limit_minutes: str = ""
    counter_limit_minutes: str = ""
    visit_limit_minutes: str = ""
    visit_staff_count: str = ""
    repeat_limit_count: str = ""
    record_retention: str = ""
    supervisor_role: str = ""
    supervisor_contact: str = ""
    desk_name: str = ""
    desk_phone: str = ""
    desk_hours: str = ""
    legal_name: str = ""
    legal_contact: str = ""
    police_station: str = ""
    police_phone: str = ""
    care_desk: str = ""
    care_contact: str = ""


def default_manual_answers() -> ManualAnswers:
    """Typical roles and limits filled in; the company's name and telephone numbers are left for the admin."""
    return ManualAnswers(
        call_limit_minutes="30",
        counter_limit_minutes="30",
        visit_limit_minutes="60",
        visit_staff_count="2",
        repeat_limit_count="3",
        record_retention="3年間",
        supervisor_role="店長・所属長",
        desk_name="本部 お客様相談室",
        legal_name="法務部",
        police_station="所轄の警察署",
        care_desk="人事部 ハラスメント相談窓口",
    )


def missing_required(answers: ManualAnswers) -> list[tuple[Step, Field]]:
    """Required fields the admin has not filled yet, in form order."""
    return missing_fields(MANUAL_STEPS, answers)


def manual_title(answers: ManualAnswers) -> str:
    """The manual's title as plain text."""
    company = answers.company_name.strip()
    return f"{company} カスタマーハラスメント応対マニュアル" if company else "カスタマーハラスメント応対マニュアル"


def manual_variables(answers: ManualAnswers) -> dict[str, str]:
    """Every placeholder the template may use, with Markdown-escaped values; an empty answer reads 〔未記入〕."""
    variables = {
        name: md_inline(value) if value.strip() else NOT_FILLED for name, value in answers.model_dump().items()
    }
    if not answers.company_name.strip():
        variables["company_name"] = "当社"
    variables["manual_title"] = md_inline(manual_title(answers))
    return variables


VARIABLE_NAMES = tuple(manual_variables(ManualAnswers()))


def manual_markdown(answers: ManualAnswers, template: str = MANUAL_TEMPLATE) -> str:
    """The template with every known placeholder replaced (check `template_errors` first)."""
    return substitute_variables(template, manual_variables(answers))


def template_errors(template: str) -> list[str]:
    """What stops an edited template from being used, in Japanese."""
    if not template.strip():
        return ["本文が空です。"]
    errors = [
        f"「{{{{ {name} }}}}」は使えない差し込み項目です。"
        for name in unknown_variables(template, dict.fromkeys(VARIABLE_NAMES, ""))
    ]
    first_line = next(line for line in template.splitlines() if line.strip())
    if not first_line.startswith("# "):
        errors.append("1行目に「# 」で始まるタイトルの行がありません。")
    return errors
