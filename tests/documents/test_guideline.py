"""The guideline checklist as pure functions: every measure once under a stable key, and how a draft of the policy
or of the manual covers it."""

from __future__ import annotations

import pytest

from app.documents.builder import PolicyAnswers, default_policy_answers
from app.documents.coverage import MANUAL_RULES, POLICY_RULES, TITLES, manual_checklist, policy_checklist
from app.documents.guideline import GROUPS, MEASURE_KEYS, MEASURES, Checklist
from app.documents.manual import MANUAL_TEMPLATE, ManualAnswers, default_manual_answers
from app.documents.service import draft_template

# The keys are part of the product's vocabulary (documentation, tests, reports): renaming one is a breaking change.
KEYS = (
    "policy_written",
    "policy_examples",
    "policy_announced",
    "response_announced",
    "desk",
    "gray_cases",
    "desk_training",
    "desk_coordination",
    "fact_finding",
    "victim_care",
    "recurrence",
    "deterrence",
    "within_law",
    "shown_to_customers",
    "privacy",
    "no_retaliation",
    "consumer_rights",
    "disability",
    "communication",
    "service_duty",
    "employer_duty",
    "cooperation",
)


def complete_policy() -> PolicyAnswers:
    """The defaults plus the company's own facts: what an admin has after typing only what the wizard asks."""
    answers = default_policy_answers()
    answers.company_name = "株式会社みなと商事"
    answers.issuer = "代表取締役 港 一郎"
    answers.effective_date = "2026年12月1日"
    answers.desk_contact = "内線 1234"
    return answers


def complete_manual() -> ManualAnswers:
    answers = default_manual_answers()
    answers.company_name = "株式会社みなと商事"
    for name in ("supervisor_contact", "desk_phone", "police_phone", "care_contact", "legal_contact"):
        setattr(answers, name, "03-0000-0000")
    return answers


def statuses(checklist: Checklist) -> dict[str, str]:
    return {line.measure.key: line.status for line in checklist.lines}


def line(checklist: Checklist, key: str):
    return next(line for line in checklist.lines if line.measure.key == key)


def test_every_measure_is_listed_once_under_a_stable_key() -> None:
    assert MEASURE_KEYS == KEYS
    assert len(set(MEASURE_KEYS)) == len(MEASURES)
    assert all(key.isascii() and key.isidentifier() for key in MEASURE_KEYS)
    assert all(measure.label.strip() for measure in MEASURES)
    assert {measure.group for measure in MEASURES} == {key for key, _title in GROUPS}


@pytest.mark.parametrize("rules", [POLICY_RULES, MANUAL_RULES], ids=["policy", "manual"])
def test_each_document_has_one_rule_per_measure(rules) -> None:
    assert [rule.measure for rule in rules] == list(KEYS)


@pytest.mark.parametrize(
    "checklist",
    [policy_checklist(PolicyAnswers()), manual_checklist(ManualAnswers(), "")],
    ids=["empty policy", "manual without text"],
)
def test_a_checklist_names_every_measure_once_in_the_guideline_order(checklist: Checklist) -> None:
    assert [line.measure.key for line in checklist.lines] == list(KEYS)
    assert [title for title, _lines in checklist.groups] == [title for _key, title in GROUPS]
    for item in checklist.lines:
        assert item.link_step in TITLES[item.link_kind], item.measure.key
        assert item.link_title == TITLES[item.link_kind][item.link_step]


def test_a_fresh_policy_draft_covers_everything_but_the_desk_contact() -> None:
    checklist = policy_checklist(default_policy_answers())
    assert {key for key, status in statuses(checklist).items() if status != "covered"} == {"desk"}
    desk = line(checklist, "desk")
    assert desk.status == "check" and (desk.link_kind, desk.link_step) == ("policy", "desk")
    assert desk.missing == ("「連絡先」を入力してください。",)
    assert checklist.count("covered") == len(KEYS) - 1 and checklist.count("elsewhere") == 0


def test_the_policy_with_the_company_facts_covers_every_measure() -> None:
    checklist = policy_checklist(complete_policy())
    assert set(statuses(checklist).values()) == {"covered"}
    assert line(checklist, "desk_training").note  # where the training itself is handled
    assert "応対マニュアル" in line(checklist, "recurrence").note


def test_a_policy_without_a_desk_says_so_and_links_the_desk_step() -> None:
    answers = complete_policy()
    answers.desk_name = ""
    answers.desk_contact = ""
    desk = line(policy_checklist(answers), "desk")
    assert desk.status == "check" and desk.link_step == "desk" and desk.link_title == "相談窓口"
    assert desk.missing == ("「窓口の名称」を入力してください。", "「連絡先」を入力してください。")


@pytest.mark.parametrize(
    ("field", "value", "measures", "step"),
    [
        ("considerations", [], {"policy_examples", "consumer_rights", "disability", "communication"}, "definition"),
        ("response_safeguards", [], {"within_law", "service_duty"}, "response"),
        ("desk_promises", ["everyone"], {"gray_cases", "privacy", "no_retaliation"}, "desk"),
        ("desk_support", [], {"desk_training", "desk_coordination"}, "desk"),
        ("other_companies", ["ask_others"], {"employer_duty", "cooperation"}, "outside"),
        ("investigation", [], {"fact_finding"}, "records"),
        ("care", ["training"], {"victim_care"}, "care"),
        ("records", ["details"], {"recurrence"}, "records"),
        ("publish", ["partners"], {"policy_announced", "response_announced", "shown_to_customers"}, "publish"),
        ("responses", ["refuse_service", "leave"], {"deterrence", "shown_to_customers"}, "response"),
        ("outside", ["lawyer"], {"deterrence"}, "outside"),
        ("escalation_final", "", {"deterrence"}, "escalation"),
        ("cooperation_desk", "", {"cooperation"}, "outside"),
    ],
)
def test_an_answer_taken_away_turns_its_measures_to_check(field: str, value, measures: set[str], step: str) -> None:
    answers = complete_policy()
    setattr(answers, field, value)
    checklist = policy_checklist(answers)
    assert {key for key, status in statuses(checklist).items() if status == "check"} == measures
    for key in measures:
        assert step in {check.step for rule in POLICY_RULES if rule.measure == key for check in rule.checks}
        assert line(checklist, key).missing


def test_the_link_points_at_the_first_step_that_needs_work() -> None:
    answers = complete_policy()
    answers.publish = []
    assert line(policy_checklist(answers), "response_announced").link_step == "publish"
    answers.responses = []
    assert line(policy_checklist(answers), "response_announced").link_step == "response"


def test_the_shipped_manual_covers_its_measures_once_the_contacts_are_filled() -> None:
    checklist = manual_checklist(complete_manual(), MANUAL_TEMPLATE)
    assert set(statuses(checklist).values()) == {"covered", "elsewhere"}
    covered = {key for key, status in statuses(checklist).items() if status == "covered"}
    assert covered >= {
        "response_announced",
        "desk",
        "fact_finding",
        "victim_care",
        "recurrence",
        "deterrence",
        "within_law",
        "privacy",
        "no_retaliation",
        "consumer_rights",
        "disability",
        "communication",
        "service_duty",
    }
    for item in checklist.lines:
        if item.status == "elsewhere":
            assert item.link_kind == "policy" and item.note
        else:
            assert item.link_kind == "manual"


def test_the_default_manual_asks_for_the_telephone_numbers_it_leaves_empty() -> None:
    answers = default_manual_answers()
    checklist = manual_checklist(answers, MANUAL_TEMPLATE)
    assert {key for key, status in statuses(checklist).items() if status == "check"} == {
        "desk",
        "desk_coordination",
        "deterrence",
    }
    assert line(checklist, "deterrence").missing == ("「警察署の電話番号」を入力してください。",)
    assert line(checklist, "deterrence").link_step == "contacts"


def test_an_edited_manual_that_drops_the_considerations_is_sent_back_to_the_text() -> None:
    start = MANUAL_TEMPLATE.index("## 2. 線を引く前に確かめること")
    end = MANUAL_TEMPLATE.index("## 3. 対応の基本フロー")
    edited = MANUAL_TEMPLATE[:start] + MANUAL_TEMPLATE[end:]
    checklist = manual_checklist(complete_manual(), edited)
    dropped = {key for key, status in statuses(checklist).items() if status == "check"}
    assert dropped == {"consumer_rights", "disability", "communication", "service_duty"}
    disability = line(checklist, "disability")
    assert disability.link_step == "template" and disability.link_title == "本文の編集"
    assert disability.missing == (
        "本文に「合理的配慮」について書いてください。",
        "本文に「建設的対話」について書いてください。",
    )
    # 「同梱のひな形に戻す」 empties the draft's text: the shipped template comes back, and with it the chapter.
    restored = manual_checklist(complete_manual(), draft_template({}))
    assert "check" not in statuses(restored).values()


def test_a_manual_heading_renamed_away_is_reported_by_its_name() -> None:
    edited = MANUAL_TEMPLATE.replace("### 3-2 事実確認", "### 3-2 確かめること")
    fact_finding = line(manual_checklist(complete_manual(), edited), "fact_finding")
    assert fact_finding.status == "check"
    assert fact_finding.missing == ("本文に「事実確認」の見出しを入れてください。",)
