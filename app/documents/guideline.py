"""The national guideline's measures (国の指針の措置) as a checklist, and how a draft of each document covers them.

The list follows the course's HR self-check (基礎編の付録「人事・総務のためのセルフチェック」): the five measures
of the 指針 for employers, its 留意事項, and the articles of the amended law on the company as a customer (34条,
33条3項). Keys are stable: tests, the documentation and any later report may rely on them. Labels are our own
summaries, not the 告示's wording (its final text and number are to be read in the 官報, not guessed here).

Pure functions only. Which wizard answers and which parts of the manual's text count for each measure is in
coverage.py; this module knows the measures and how to turn checks into a checklist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["covered", "check", "elsewhere"]


@dataclass(frozen=True)
class Measure:
    key: str
    group: str
    label: str


GROUPS: tuple[tuple[str, str], ...] = (
    ("policy", "1. 方針の明確化と周知・啓発"),
    ("consultation", "2. 相談に応じ、適切に対応するための体制"),
    ("aftermath", "3. 起きた後の迅速で適切な対応"),
    ("deterrence", "4. 抑止のための措置"),
    ("protection", "5. あわせて講じる措置"),
    ("considerations", "6. 対策を進めるときの留意事項"),
    ("as_customer", "7. 自社が「顧客等」の側に立つとき"),
)

MEASURES: tuple[Measure, ...] = (
    Measure("policy_written", "policy", "カスハラには毅然と対応し、働く人を守るという方針を文書で示す"),
    Measure("policy_examples", "policy", "カスハラに当たる言動の例と、正当な申出は受け止める姿勢を示す"),
    Measure("policy_announced", "policy", "管理監督者を含む全員に方針を知らせる"),
    Measure("response_announced", "policy", "カスハラが起きたときに会社がどう対処するかを、前もって知らせる"),
    Measure("desk", "consultation", "相談窓口を定め、連絡先とともに知らせる"),
    Measure("gray_cases", "consultation", "カスハラかどうか迷う段階の相談も受け付ける"),
    Measure("desk_training", "consultation", "窓口の担当者に手引きと研修を用意する"),
    Measure("desk_coordination", "consultation", "窓口が現場の責任者や人事・法務などの関係部署と連携する"),
    Measure("fact_finding", "aftermath", "双方の話と客観的な資料で、事実を速やかに正確に確かめる"),
    Measure(
        "victim_care", "aftermath", "被害を受けた人に配慮する(一人で対応させない、担当の交代、休養、専門家への相談)"
    ),
    Measure("recurrence", "aftermath", "事例を振り返り、方針・手順・接客の方法を見直して再発を防ぐ"),
    Measure(
        "deterrence",
        "deterrence",
        "特に悪質な行為への対処(警告、サービスの制限、出入禁止、警察への通報)と、それを決める人を定める",
    ),
    Measure("within_law", "deterrence", "サービスの制限は法令の範囲内で行う"),
    Measure("shown_to_customers", "deterrence", "録音・録画や、対応を終える場合があることを、お客様にも分かる形で示す"),
    Measure("privacy", "protection", "相談した人や関係者のプライバシーを守り、そのことを知らせる"),
    Measure(
        "no_retaliation",
        "protection",
        "相談や事実確認への協力を理由に不利益に扱わないと定め、知らせる(改正法第33条第2項)",
    ),
    Measure("consumer_rights", "considerations", "苦情や説明・被害回復の求めといった、お客様の正当な権利を狭めない"),
    Measure(
        "disability",
        "considerations",
        "障害のある方の配慮の求めをカスハラと扱わず、合理的配慮と建設的対話で応える"
        "(障害者差別解消法。不当な差別的取扱いをしない)",
    ),
    Measure(
        "communication",
        "considerations",
        "病気・認知症・障害などでやりとりが難しい方の言動は、まず伝え方や対応の方法を見直す",
    ),
    Measure(
        "service_duty",
        "considerations",
        "法令でサービスの提供が求められている場合や、止めると生命・健康に重い影響が出る場合は、組織として慎重に判断する",
    ),
    Measure(
        "employer_duty",
        "as_customer",
        "自社の社員が他社の社員などにカスハラをしないよう、研修などで配慮する(改正法第34条)",
    ),
    Measure(
        "cooperation", "as_customer", "他社から措置への協力を求められたときの窓口と対応を決める(改正法第33条第3項)"
    ),
)
MEASURE_KEYS = tuple(measure.key for measure in MEASURES)


@dataclass(frozen=True)
class Check:
    """One thing a document must contain for a measure: `missing` says, in Japanese, what to do when it does not."""

    step: str
    missing: str
    met: Callable[[Any, str], bool]  # (answers, the manual's text — "" for the policy)


@dataclass(frozen=True)
class Rule:
    """How one document covers one measure: the checks it must pass in its own steps, or (no checks) the other
    document's step that covers it. `note` says where in the document it is, or where the rest of it is done."""

    measure: str
    checks: tuple[Check, ...] = ()
    step: str = ""  # with no checks: the other document's step
    note: str = ""


@dataclass(frozen=True)
class Line:
    measure: Measure
    status: Status
    missing: tuple[str, ...]
    link_kind: str  # the document whose wizard step covers the measure ("policy" or "manual")
    link_step: str
    link_title: str
    note: str


@dataclass(frozen=True)
class Checklist:
    lines: tuple[Line, ...]

    def count(self, status: Status) -> int:
        return sum(line.status == status for line in self.lines)

    @property
    def groups(self) -> list[tuple[str, list[Line]]]:
        """(group title, its lines) in the guideline's order, groups without a line left out."""
        grouped = [(title, [line for line in self.lines if line.measure.group == key]) for key, title in GROUPS]
        return [(title, lines) for title, lines in grouped if lines]


def evaluate(
    rules: tuple[Rule, ...],
    *,
    kind: str,
    other_kind: str,
    titles: dict[str, dict[str, str]],
    answers: Any,
    text: str = "",
) -> Checklist:
    """Every measure once, in order: covered when all its checks pass, to check (with what is missing, linked to
    the first step that needs work) when one fails, elsewhere when the other document covers it."""
    by_measure = {rule.measure: rule for rule in rules}
    assert set(by_measure) == set(MEASURE_KEYS) and len(rules) == len(MEASURES), "one rule per measure"
    lines = []
    for measure in MEASURES:
        rule = by_measure[measure.key]
        if not rule.checks:
            link_kind, step, status, missing = other_kind, rule.step, "elsewhere", ()
        else:
            failed = [check for check in rule.checks if not check.met(answers, text)]
            link_kind, step = kind, (failed or rule.checks)[0].step
            status = "check" if failed else "covered"
            missing = tuple(check.missing for check in failed)
        lines.append(
            Line(measure, status, missing, link_kind, step, titles[link_kind][step], rule.note)  # type: ignore[arg-type]
        )
    return Checklist(tuple(lines))
