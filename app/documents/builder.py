"""The policy wizard (方針作成ガイド): the answers model, sensible defaults, and the Markdown policy generated from
them. The steps themselves are in policy_steps.py."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel
from pydantic import Field as ModelField

from app.documents.policy_steps import POLICY_STEPS
from app.documents.wizard import Field, Step, md_inline, md_paragraphs, missing_fields

__all__ = [
    "POLICY_STEPS",
    "PolicyAnswers",
    "default_policy_answers",
    "missing_required",
    "policy_markdown",
    "policy_title",
]


class PolicyAnswers(BaseModel):
    """One draft of the wizard; every field has a default so that an empty draft validates.

    A draft saved before a field existed has no value for it: `service.draft_answers` fills it from
    `default_policy_answers()`, so a field added later must get a sensible default there."""

    company_name: str = ""
    issuer: str = ""
    effective_date: str = ""
    stance: str = ""
    definition: str = ""
    behaviours: list[str] = ModelField(default_factory=list)
    behaviours_extra: list[str] = ModelField(default_factory=list)
    considerations: list[str] = ModelField(default_factory=list)
    responses: list[str] = ModelField(default_factory=list)
    response_limits: str = ""
    response_safeguards: list[str] = ModelField(default_factory=list)
    service_duty_note: str = ""
    escalation_first: str = ""
    escalation_second: str = ""
    escalation_final: str = ""
    desk_name: str = ""
    desk_contact: str = ""
    desk_hours: str = ""
    desk_promises: list[str] = ModelField(default_factory=list)
    desk_support: list[str] = ModelField(default_factory=list)
    desk_note: str = ""
    care: list[str] = ModelField(default_factory=list)
    care_note: str = ""
    outside: list[str] = ModelField(default_factory=list)
    outside_note: str = ""
    other_companies: list[str] = ModelField(default_factory=list)
    cooperation_desk: str = ""
    investigation: list[str] = ModelField(default_factory=list)
    records: list[str] = ModelField(default_factory=list)
    records_note: str = ""
    publish: list[str] = ModelField(default_factory=list)
    customer_request: str = ""
    review: str = ""
    department: str = ""
    inquiry: str = ""


def _field(name: str) -> Field:
    return next(field for step in POLICY_STEPS for field in step.fields if field.name == name)


def _all_keys(name: str, *, but: tuple[str, ...] = ()) -> list[str]:
    return [option.key for option in _field(name).options if option.key not in but]


def default_policy_answers() -> PolicyAnswers:
    """A draft with the usual choices ticked and model sentences written, so only the company's own facts remain."""
    return PolicyAnswers(
        stance=(
            "当社は、お客様からいただくご意見やご要望を、商品とサービスをより良くするための大切な声と受け止め、誠実にお応えします。\n"
            "一方で、従業員の安全や尊厳を損なう言動は、お客様との信頼関係を壊し、安心して働ける職場を脅かすものです。\n"
            "当社は、こうした言動から従業員を守るため、組織として毅然とした態度で対応します。"
        ),
        definition=(
            "当社は、お客様やお取引先など当社の事業に関わる方からの言動のうち、要求の内容に照らして、"
            "要求を実現するための手段や態様が社会通念上相当な範囲を超え、それによって従業員の就業環境が害されるものを、"
            "カスタマーハラスメントとします。\n"
            "店頭や窓口に限らず、電話、メール、SNS、オンラインでの言動も対象です。"
        ),
        behaviours=_all_keys("behaviours"),
        considerations=_all_keys("considerations"),
        responses=_all_keys("responses"),
        response_limits="長時間にわたる拘束や同じ要求の繰り返しには、一定の時間や回数を目安に対応を終了することがあります。",
        response_safeguards=_all_keys("response_safeguards"),
        escalation_first="店長・所属長",
        escalation_second="本部 お客様相談室",
        escalation_final="法務部・経営層",
        desk_name="人事部 ハラスメント相談窓口",
        desk_promises=_all_keys("desk_promises"),
        desk_support=_all_keys("desk_support", but=("one_stop",)),
        care=_all_keys("care"),
        outside=_all_keys("outside"),
        other_companies=_all_keys("other_companies", but=("ask_others",)),
        cooperation_desk="人事部 ハラスメント相談窓口",
        investigation=_all_keys("investigation"),
        records=_all_keys("records"),
        publish=_all_keys("publish", but=("partners",)),
        customer_request=(
            "すべてのお客様に気持ちよくご利用いただき、従業員が安心して働ける環境を保つため、"
            "本方針へのご理解とご協力をお願いいたします。"
        ),
        review="年1回、および関係する法令や指針が改正されたとき",
    )


def missing_required(answers: PolicyAnswers) -> list[tuple[Step, Field]]:
    """Required fields the admin has not filled yet, in wizard order."""
    return missing_fields(POLICY_STEPS, answers)


def policy_title(answers: PolicyAnswers) -> str:
    """The policy's title as plain text (escape it before putting it into Markdown)."""
    company = answers.company_name.strip()
    return f"{company} カスタマーハラスメントに対する基本方針" if company else "カスタマーハラスメントに対する基本方針"


def _chosen(answers: PolicyAnswers, name: str) -> list[str]:
    return [md_inline(option.sentence) for option in _field(name).chosen(getattr(answers, name))]


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items if item)


def _blocks(*blocks: str) -> str:
    return "\n\n".join(block for block in blocks if block)


def _stance(answers: PolicyAnswers) -> str:
    return md_paragraphs(answers.stance)


def _definition(answers: PolicyAnswers) -> str:
    return md_paragraphs(answers.definition)


def _behaviours(answers: PolicyAnswers) -> str:
    items = _chosen(answers, "behaviours") + [md_inline(line) for line in answers.behaviours_extra]
    if not any(items):
        return ""
    return _blocks(
        "当社は、次のような行為をカスタマーハラスメントとして扱います。", _bullets(items), "これらに限りません。"
    )


def _considerations(answers: PolicyAnswers) -> str:
    items = _chosen(answers, "considerations")
    return _blocks("対策を進めるにあたって、当社は次のことを守ります。", _bullets(items)) if items else ""


def _responses(answers: PolicyAnswers) -> str:
    items = _chosen(answers, "responses")
    limits = md_paragraphs(answers.response_limits)
    safeguards = _chosen(answers, "response_safeguards") + _labelled(
        ("法令で提供が求められている当社のサービス", answers.service_duty_note)
    )
    if not items and not limits and not safeguards:
        return ""
    lead = "カスタマーハラスメントに当たる行為があった場合、当社は次のように対応します。" if items else ""
    # The sentence between the two lists keeps Markdown from merging them into one.
    safeguard_lead = "こうした対応は、次のことを守って行います。" if safeguards else ""
    return _blocks(lead, _bullets(items), limits, safeguard_lead, _bullets(safeguards))


def _escalation(answers: PolicyAnswers) -> str:
    rows = [
        ("一次対応", answers.escalation_first, "報告を受けて現場に加わり、担当の交代や対応の終了を判断します。"),
        ("二次対応", answers.escalation_second, "現場で収まらない事案を引き継ぎ、会社としての回答をまとめます。"),
        ("最終判断", answers.escalation_final, "出入り禁止、取引の停止、法的措置などの重い措置を決めます。"),
    ]
    filled = [f"| {stage} | {md_inline(who)} | {role} |" for stage, who, role in rows if who.strip()]
    if not filled:
        return ""
    table = "\n".join(["| 段階 | 担当 | 役割 |", "|---|---|---|", *filled])
    return _blocks("従業員が一人で抱え込まないよう、次の段階で組織として対応します。", table)


def _labelled(*pairs: tuple[str, str]) -> list[str]:
    """「label: value」 for each value the admin filled in, escaped."""
    return [f"{label}: {md_inline(value)}" for label, value in pairs if value.strip()]


def _desk(answers: PolicyAnswers) -> str:
    details = _labelled(("窓口", answers.desk_name), ("連絡先", answers.desk_contact), ("受付時間", answers.desk_hours))
    promises = _chosen(answers, "desk_promises")
    support = _chosen(answers, "desk_support")
    note = md_paragraphs(answers.desk_note)
    if not details and not promises and not support and not note:
        return ""
    lead = "カスタマーハラスメントを受けた従業員や、その場に居合わせた従業員のために、相談窓口を設けます。"
    # The sentences between the lists keep Markdown from merging them into one.
    promise_lead = "相談窓口では、次のことを約束します。" if promises else ""
    support_lead = "窓口の担当者が適切に対応できるよう、次のように備えます。" if support else ""
    return _blocks(lead, _bullets(details), promise_lead, _bullets(promises), support_lead, _bullets(support), note)


def _care(answers: PolicyAnswers) -> str:
    items = _chosen(answers, "care")
    if answers.care_note.strip():
        items.append(md_inline(answers.care_note))
    return _blocks("被害を受けた従業員の心身を守るため、次のように配慮します。", _bullets(items)) if items else ""


def _outside(answers: PolicyAnswers) -> str:
    items = _chosen(answers, "outside")
    if answers.outside_note.strip():
        items.append(md_inline(answers.outside_note))
    return _blocks("警察や弁護士などの外部の専門家と、次のように連携します。", _bullets(items)) if items else ""


def _other_companies(answers: PolicyAnswers) -> str:
    items = _chosen(answers, "other_companies") + _labelled(
        ("他社からの協力の求めを受ける窓口", answers.cooperation_desk)
    )
    return _blocks("お取引先など他社との間でも、次のように取り組みます。", _bullets(items)) if items else ""


def _records(answers: PolicyAnswers) -> str:
    items = _chosen(answers, "investigation") + _chosen(answers, "records")
    if answers.records_note.strip():
        items.append(md_inline(answers.records_note))
    return (
        _blocks("事実を正確に把握し、同じことを繰り返さないため、次のように取り組みます。", _bullets(items))
        if items
        else ""
    )


def _customer_request(answers: PolicyAnswers) -> str:
    return md_paragraphs(answers.customer_request)


def _publish(answers: PolicyAnswers) -> str:
    items = _chosen(answers, "publish")
    lead = "本方針は、次の方法で周知・公表し、定期的に見直します。" if items else "本方針は、定期的に見直します。"
    if answers.review.strip():
        items.append(f"見直しの時期: {md_inline(answers.review)}")
    return _blocks(lead, _bullets(items)) if items else ""


SECTIONS: tuple[tuple[str, Callable[[PolicyAnswers], str]], ...] = (
    ("基本的な考え方", _stance),
    ("カスタマーハラスメントの定義", _definition),
    ("対象となる行為", _behaviours),
    ("お客様の権利と配慮", _considerations),
    ("カスタマーハラスメントへの対応", _responses),
    ("社内の対応体制", _escalation),
    ("相談窓口", _desk),
    ("従業員への配慮", _care),
    ("警察・弁護士などとの連携", _outside),
    ("お取引先など他社との関係", _other_companies),
    ("事実確認・記録と再発防止", _records),
    ("お客様へのお願い", _customer_request),
    ("周知と見直し", _publish),
)


def _closing(answers: PolicyAnswers) -> str:
    lines = _labelled(
        ("制定日", answers.effective_date), ("所管", answers.department), ("お問い合わせ先", answers.inquiry)
    )
    signature = [md_inline(value) for value in (answers.company_name, answers.issuer) if value.strip()]
    return _blocks("以上", *lines, *signature)


def policy_markdown(answers: PolicyAnswers) -> str:
    """The policy as Markdown (です・ます調); every value the admin typed is escaped, empty sections are left out."""
    company = answers.company_name.strip()
    subject = f"{md_inline(company)}(以下「当社」といいます)" if company else "当社"
    preamble = (
        f"{subject}は、お客様への誠実な対応と、従業員が安全に、尊厳をもって働ける職場づくりを両立させるため、"
        "カスタマーハラスメントに対する基本方針を次のとおり定めます。"
    )
    parts = [f"# {md_inline(policy_title(answers))}", preamble]
    number = 0
    for heading, section in SECTIONS:
        body = section(answers)
        if body:
            number += 1
            parts += [f"## {number}. {heading}", body]
    parts.append(_closing(answers))
    return "\n\n".join(parts) + "\n"
