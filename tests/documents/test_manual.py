import re

import pytest
from bs4 import BeautifulSoup

from app.content.markdown import VARIABLE_PATTERN, render, unknown_variables
from app.documents.manual import (
    MANUAL_STEPS,
    MANUAL_TEMPLATE,
    NOT_FILLED,
    ManualAnswers,
    default_manual_answers,
    manual_markdown,
    manual_title,
    manual_variables,
    missing_required,
    template_errors,
)
from app.documents.wizard import document_body, parse_step_form

FIELDS = [field for step in MANUAL_STEPS for field in step.fields]
CHAPTERS = [
    "目的と基本姿勢",
    "線を引く前に確かめること",
    "対応の基本フロー",
    "電話での対応",
    "窓口・店頭での対応",
    "訪問での対応",
    "メール・SNSでの対応",
    "すぐに110番通報する場面",
    "記録のチェックリスト",
    "エスカレーションと連絡先",
    "対応の終了の進め方",
    "従業員のケアと事例の検証",
]


def every_field_filled() -> ManualAnswers:
    """A distinct value per field, so each one can be found in the output."""
    return ManualAnswers(**{field.name: f"値{index:02d}" for index, field in enumerate(FIELDS)})


def rendered(answers: ManualAnswers) -> BeautifulSoup:
    return BeautifulSoup(render(document_body(manual_markdown(answers))).html, "html.parser")


def test_steps_cover_every_answer_once() -> None:
    assert 2 <= len(MANUAL_STEPS) <= 3
    names = [field.name for field in FIELDS]
    assert len(names) == len(set(names))
    assert set(ManualAnswers.model_fields) == set(names)
    assert all(step.key.isascii() for step in MANUAL_STEPS)


def test_default_template_has_no_unknown_placeholder_and_uses_every_answer() -> None:
    assert template_errors(MANUAL_TEMPLATE) == []
    assert unknown_variables(MANUAL_TEMPLATE, manual_variables(default_manual_answers())) == []
    used = set(VARIABLE_PATTERN.findall(MANUAL_TEMPLATE))
    assert set(ManualAnswers.model_fields) <= used


def test_every_variable_value_appears_in_the_output() -> None:
    answers = every_field_filled()
    variables = manual_variables(answers)
    markdown = manual_markdown(answers)
    assert not VARIABLE_PATTERN.search(markdown)
    for value in variables.values():
        assert value in markdown
    text = rendered(answers).get_text()
    for field in FIELDS:
        assert getattr(answers, field.name) in text


def test_the_manual_renders_its_chapters_and_boxes() -> None:
    answers = default_manual_answers()
    answers.company_name = "株式会社みなと商事"
    markdown = manual_markdown(answers)
    assert markdown.startswith(f"# {manual_title(answers)}\n")
    soup = rendered(answers)
    chapters = [re.sub(r"^\d+\. ", "", h2.get_text()) for h2 in soup.find_all("h2")]
    assert chapters == CHAPTERS
    flow = [h3.get_text() for h3 in soup.find_all("h3") if re.match(r"\d+-\d ", h3.get_text())]
    assert flow == [
        "3-1 初期対応",
        "3-2 事実確認",
        "3-3 記録",
        "3-4 エスカレーション",
        "3-5 対応の終了",
        "3-6 事後のケア",
    ]
    checks = [h3.get_text() for h3 in soup.find_all("h3")][:4]
    assert checks == [
        "お客様の正当な権利",
        "障害のある方への合理的配慮と建設的対話",
        "病気・認知症・障害でやりとりが難しい方",
        "サービスの制限は法令の範囲内で",
    ]
    boxes = [title.get_text() for title in soup.select(".admonition-title")]
    assert "ポイント" in boxes and "注意" in boxes
    table = soup.find("table")
    assert table is not None and all(len(row.find_all(["th", "td"])) == 4 for row in table.find_all("tr"))


def test_the_manual_has_a_useful_length() -> None:
    answers = default_manual_answers()
    answers.company_name = "株式会社みなと商事"
    characters = len(re.sub(r"\s", "", rendered(answers).get_text()))
    # About 1,000 characters more since the guideline's 留意事項 have their own chapter (2026-12).
    assert 3000 <= characters <= 6500


def test_empty_answers_read_as_not_filled_and_the_company_as_tousha() -> None:
    variables = manual_variables(ManualAnswers())
    assert variables["company_name"] == "当社"
    assert variables["desk_phone"] == NOT_FILLED
    assert variables["manual_title"] == "カスタマーハラスメント応対マニュアル"


def test_values_are_escaped_and_never_substituted_again() -> None:
    answers = default_manual_answers()
    answers.company_name = "{{ desk_name }}"
    answers.desk_phone = "| 03 | <script>x</script>"
    answers.desk_name = "[相談室](javascript:alert(1))"
    soup = rendered(answers)
    assert soup.find_all(["a", "script"]) == []
    text = soup.get_text()
    assert "{{ desk_name }}" in text and "| 03 | <script>x</script>" in text
    assert all(len(row.find_all(["th", "td"])) == 4 for row in soup.find("table").find_all("tr"))


def test_template_errors_name_an_unknown_placeholder() -> None:
    errors = template_errors("# 題\n\n本文 {{ foo }} と {{ company_name }}\n")
    assert errors == ["「{{ foo }}」は使えない差し込み項目です。"]


@pytest.mark.parametrize("template", ["", "  \n\n "])
def test_template_errors_report_an_empty_template(template: str) -> None:
    assert template_errors(template) == ["本文が空です。"]


@pytest.mark.parametrize("template", ["本文だけです。\n", "## 見出し\n\n本文\n", "本文\n\n# 後ろにある題\n"])
def test_template_errors_report_a_missing_title(template: str) -> None:
    assert template_errors(template) == ["1行目に「# 」で始まるタイトルの行がありません。"]


def test_defaults_leave_only_the_company_name_to_fill() -> None:
    answers = default_manual_answers()
    assert [field.name for _step, field in missing_required(answers)] == ["company_name"]
    answers.company_name = "株式会社みなと商事"
    assert missing_required(answers) == []


def test_title() -> None:
    assert manual_title(ManualAnswers()) == "カスタマーハラスメント応対マニュアル"
    assert manual_title(ManualAnswers(company_name="株式会社みなと商事")) == (
        "株式会社みなと商事 カスタマーハラスメント応対マニュアル"
    )


@pytest.mark.parametrize("step", MANUAL_STEPS, ids=lambda step: step.key)
def test_defaults_survive_a_round_trip_through_the_form(step) -> None:
    answers = default_manual_answers()
    answers.company_name = "株式会社みなと商事"
    values, errors = parse_step_form(step, {field.name: [getattr(answers, field.name)] for field in step.fields})
    assert errors == {}
    assert values == {field.name: getattr(answers, field.name) for field in step.fields}
