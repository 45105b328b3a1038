import re

import pytest
from bs4 import BeautifulSoup
from markdown_it import MarkdownIt

from app.content.markdown import VARIABLE_PATTERN, render
from app.documents.builder import (
    POLICY_STEPS,
    PolicyAnswers,
    default_policy_answers,
    missing_required,
    policy_markdown,
    policy_title,
)
from app.documents.kinds import KINDS, step_for
from app.documents.wizard import (
    MAX_LINES,
    UNKNOWN_CHOICE,
    Field,
    document_body,
    form_value,
    md_escape,
    parse_step_form,
)

FIELDS = [field for step in POLICY_STEPS for field in step.fields]
CHOICES = [field for field in FIELDS if field.kind == "choices"]
ALL_HEADINGS = [
    "基本的な考え方",
    "カスタマーハラスメントの定義",
    "対象となる行為",
    "お客様の権利と配慮",
    "カスタマーハラスメントへの対応",
    "社内の対応体制",
    "相談窓口",
    "従業員への配慮",
    "警察・弁護士などとの連携",
    "お取引先など他社との関係",
    "事実確認・記録と再発防止",
    "お客様へのお願い",
    "周知と見直し",
]
HOSTILE = [
    "# x",
    "<script>alert(1)</script>",
    "[a](javascript:x)",
    "| a |",
    "{{ x }}",
    "**b**",
    "1. x",
    "- y",
    "!!! caution",
    "> q",
    "`c`",
    "~~s~~",
    "&lt;",
    "<https://example.com>",
]


def filled() -> PolicyAnswers:
    answers = default_policy_answers()
    answers.company_name = "株式会社みなと商事"
    answers.issuer = "代表取締役社長 港 一郎"
    answers.effective_date = "2026年4月1日"
    return answers


def soup_of(answers: PolicyAnswers) -> BeautifulSoup:
    return BeautifulSoup(render(policy_markdown(answers)).html, "html.parser")


def visible_text(answers: PolicyAnswers) -> str:
    return soup_of(answers).get_text()


def h2_titles(soup: BeautifulSoup) -> list[str]:
    return [re.sub(r"^\d+\. ", "", h2.get_text()) for h2 in soup.find_all("h2")]


def test_steps_come_in_the_agreed_order_with_ascii_keys() -> None:
    keys = [step.key for step in POLICY_STEPS]
    assert keys == ["stance", "definition", "response", "escalation", "desk", "care", "outside", "records", "publish"]
    for field in FIELDS:
        assert len({option.key for option in field.options}) == len(field.options)
        assert all(option.key.isascii() and option.key.isidentifier() for option in field.options)


def test_answers_model_has_exactly_one_attribute_per_field() -> None:
    names = [field.name for field in FIELDS]
    assert len(names) == len(set(names))
    assert set(PolicyAnswers.model_fields) == set(names)


def test_an_empty_draft_validates() -> None:
    assert PolicyAnswers.model_validate({}) == PolicyAnswers()


@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.name)
def test_every_chosen_option_and_filled_field_appears(field: Field) -> None:
    answers = filled()
    expected: list[str]
    if field.kind == "choices":
        setattr(answers, field.name, [option.key for option in field.options])
        expected = [option.sentence for option in field.options]
    elif field.kind == "lines":
        expected = [f"追加の行その1({field.name})", f"追加の行その2({field.name})"]
        setattr(answers, field.name, expected)
    elif field.kind == "textarea":
        expected = [f"一段落目です({field.name})。", f"二段落目です({field.name})。"]
        setattr(answers, field.name, "\n".join(expected))
    else:
        expected = [f"記入した値({field.name})"]
        setattr(answers, field.name, expected[0])
    soup = soup_of(answers)
    text = soup.get_text()
    for value in expected:
        assert value in text
    if field.kind == "textarea":
        paragraphs = [p.get_text() for p in soup.find_all("p")]
        assert all(value in paragraphs for value in expected)


@pytest.mark.parametrize("field", CHOICES, ids=lambda field: field.name)
def test_unchecked_options_do_not_appear(field: Field) -> None:
    answers = filled()
    setattr(answers, field.name, [field.options[0].key])
    text = visible_text(answers)
    assert field.options[0].sentence in text
    for option in field.options[1:]:
        assert option.sentence not in text


def test_unknown_keys_in_a_stored_draft_are_ignored() -> None:
    answers = filled()
    answers.behaviours = ["no_such_key"]
    assert "対象となる行為" not in h2_titles(soup_of(answers))


def test_the_default_policy_has_every_section_numbered_in_order() -> None:
    soup = soup_of(filled())
    assert h2_titles(soup) == ALL_HEADINGS
    numbers = [h2.get_text().split(".")[0] for h2 in soup.find_all("h2")]
    assert numbers == [str(n) for n in range(1, len(ALL_HEADINGS) + 1)]


def test_empty_optional_sections_leave_no_heading() -> None:
    answers = PolicyAnswers(
        company_name="株式会社みなと商事",
        issuer="代表取締役 港 一郎",
        effective_date="2026年4月1日",
        stance="お客様の声を大切にします。",
        definition="当社の定義です。",
    )
    soup = soup_of(answers)
    assert h2_titles(soup) == ["基本的な考え方", "カスタマーハラスメントの定義"]
    assert not soup.find_all(["ul", "ol", "table"])


def test_a_skipped_section_does_not_leave_a_gap_in_the_numbers() -> None:
    answers = filled()
    answers.behaviours = []
    answers.behaviours_extra = []
    headings = [h2.get_text() for h2 in soup_of(answers).find_all("h2")]
    assert headings[2] == "3. お客様の権利と配慮"


def test_every_heading_is_followed_by_content() -> None:
    for answers in (filled(), PolicyAnswers(), PolicyAnswers(desk_name="相談窓口")):
        markdown = policy_markdown(answers)
        blocks = markdown.strip().split("\n\n")
        for index, block in enumerate(blocks):
            if block.startswith("## "):
                assert index + 1 < len(blocks) and not blocks[index + 1].startswith("#")


def test_the_document_has_one_title_and_the_body_renders_without_it() -> None:
    answers = filled()
    markdown = policy_markdown(answers)
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    assert [token.tag for token in tokens if token.type == "heading_open"].count("h1") == 1
    assert markdown.startswith(f"# {policy_title(answers)}\n")
    # The shared sanitiser drops <h1>, so pages render the body and show the title themselves.
    body = BeautifulSoup(render(document_body(markdown)).html, "html.parser")
    assert policy_title(answers) not in body.get_text()
    assert body.find().name == "p"
    assert len(body.find_all("h2")) == len(ALL_HEADINGS)


def test_closing_carries_date_issuer_and_company() -> None:
    answers = filled()
    answers.department = "総務部"
    answers.inquiry = "お客様相談室 0120-000-000"
    paragraphs = [p.get_text() for p in soup_of(answers).find_all("p")]
    end = paragraphs[paragraphs.index("以上") :]
    assert end == [
        "以上",
        "制定日: 2026年4月1日",
        "所管: 総務部",
        "お問い合わせ先: お客様相談室 0120-000-000",
        "株式会社みなと商事",
        "代表取締役社長 港 一郎",
    ]


def test_title_without_a_company_name() -> None:
    assert policy_title(PolicyAnswers()) == "カスタマーハラスメントに対する基本方針"
    assert policy_title(filled()) == "株式会社みなと商事 カスタマーハラスメントに対する基本方針"
    preamble = soup_of(PolicyAnswers(stance="方針")).find("p").get_text()
    assert preamble.startswith("当社は、") and "以下「当社」" not in preamble


def test_admin_text_with_markdown_and_html_stays_literal_text() -> None:
    answers = filled()
    hostile = " ".join(HOSTILE)
    answers.company_name = "# 株式会社<b>"
    answers.issuer = "**社長**"
    answers.stance = "\n".join(HOSTILE)
    answers.behaviours_extra = HOSTILE
    answers.escalation_first = "| a | b |"
    answers.desk_contact = hostile
    answers.review = "{{ x }} {{{y}}}"
    markdown = policy_markdown(answers)
    assert not VARIABLE_PATTERN.search(markdown)
    html = render(markdown).html
    soup = BeautifulSoup(html, "html.parser")

    assert soup.find_all(["a", "script", "strong", "em", "code", "s", "del", "blockquote", "h1", "h3", "ol"]) == []
    assert soup.find_all("div") == []  # no admonition box
    assert h2_titles(soup) == ALL_HEADINGS
    assert len(soup.find_all("table")) == 1
    assert all(len(row.find_all(["th", "td"])) == 3 for row in soup.find_all("tr"))
    assert "| a | b |" in [cell.get_text() for cell in soup.find_all("td")]

    text = soup.get_text()
    for value in [*HOSTILE, hostile, "# 株式会社<b>", "**社長**", "{{ x }} {{{y}}}"]:
        assert value in text
    paragraphs = [p.get_text() for p in soup.find_all("p")]
    assert all(value in paragraphs for value in HOSTILE)  # one paragraph per textarea line
    items = [li.get_text() for li in soup.find_all("li")]
    assert all(value in items for value in HOSTILE)  # one bullet per line, none of them a nested list


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("株式会社みなと商事(本社)", "株式会社みなと商事(本社)"),
        ("03-1234-5678 (代表)", "03-1234-5678 (代表)"),
        ("相談は#9110へ", "相談は#9110へ"),
        ("#9110", "\\#9110"),
        ("- 項目", "\\- 項目"),
        ("2026. 方針", "2026\\. 方針"),
        ("a*b_c", "a\\*b\\_c"),
        ("{{ x }}", "\\{\\{ x }}"),
        ("<b>", "\\<b>"),
        ("A&amp;B & C", "A\\&amp;B & C"),
        ("    字下げ  ", "字下げ"),
        ("一行目\n# 二行目", "一行目\n\\# 二行目"),
    ],
)
def test_md_escape(text: str, escaped: str) -> None:
    assert md_escape(text) == escaped


STANCE = POLICY_STEPS[0]
DEFINITION = POLICY_STEPS[1]


def test_parse_reports_missing_required_fields() -> None:
    values, errors = parse_step_form(STANCE, {"company_name": ["  "], "issuer": ["社長"]})
    assert errors == {
        "company_name": "入力してください",
        "effective_date": "入力してください",
        "stance": "入力してください",
    }
    assert values["company_name"] == "" and values["issuer"] == "社長"


def test_parse_reports_text_that_is_too_long() -> None:
    field = next(field for field in STANCE.fields if field.name == "company_name")
    _values, errors = parse_step_form(STANCE, {"company_name": ["あ" * (field.max_length + 1)]})
    assert errors["company_name"] == f"{field.max_length}文字以内で入力してください"
    _values, errors = parse_step_form(STANCE, {"company_name": ["あ" * field.max_length]})
    assert "company_name" not in errors


def test_parse_strips_text_and_keeps_one_line() -> None:
    values, _errors = parse_step_form(STANCE, {"company_name": ["  株式会社\r\nみなと  "], "stance": [" 一\r\n二 "]})
    assert values["company_name"] == "株式会社 みなと"
    assert values["stance"] == "一\n二"


def test_parse_choices_keeps_known_keys_in_option_order() -> None:
    values, errors = parse_step_form(DEFINITION, {"behaviours": ["threats", "physical"]})
    assert values["behaviours"] == ["physical", "threats"]
    assert "behaviours" not in errors


def test_parse_rejects_an_unknown_choice_key() -> None:
    values, errors = parse_step_form(DEFINITION, {"behaviours": ["physical", "javascript:alert(1)"]})
    assert errors["behaviours"] == UNKNOWN_CHOICE
    assert values["behaviours"] == ["physical"]


def test_parse_unticked_checkboxes_mean_an_empty_list() -> None:
    values, errors = parse_step_form(DEFINITION, {"definition": ["定義"]})
    assert values["behaviours"] == [] and values["behaviours_extra"] == []
    assert errors == {}


def test_parse_lines_splits_and_drops_blank_lines() -> None:
    values, errors = parse_step_form(DEFINITION, {"behaviours_extra": ["  一つ目\r\n\r\n二つ目  \n\n"]})
    assert values["behaviours_extra"] == ["一つ目", "二つ目"]
    assert "behaviours_extra" not in errors


def test_parse_lines_limits_count_and_length() -> None:
    field = next(field for field in DEFINITION.fields if field.name == "behaviours_extra")
    _values, errors = parse_step_form(DEFINITION, {"behaviours_extra": ["\n".join(["行"] * (MAX_LINES + 1))]})
    assert errors["behaviours_extra"] == f"{MAX_LINES}行以内で入力してください"
    _values, errors = parse_step_form(DEFINITION, {"behaviours_extra": ["短い\n" + "長" * (field.max_length + 1)]})
    assert errors["behaviours_extra"] == f"1行{field.max_length}文字以内で入力してください"


def test_defaults_leave_only_the_company_facts_to_fill() -> None:
    answers = default_policy_answers()
    assert [field.name for _step, field in missing_required(answers)] == ["company_name", "issuer", "effective_date"]
    assert missing_required(filled()) == []
    assert {field.name for _step, field in missing_required(PolicyAnswers())} >= {"stance", "definition"}


def test_defaults_tick_typical_choices_and_write_model_sentences() -> None:
    answers = default_policy_answers()
    for field in CHOICES:
        assert getattr(answers, field.name), field.name
    assert answers.stance and answers.definition and answers.customer_request
    assert answers.company_name == ""


@pytest.mark.parametrize("step", POLICY_STEPS, ids=lambda step: step.key)
def test_defaults_survive_a_round_trip_through_the_form(step) -> None:
    answers = filled()
    form = {}
    for field in step.fields:
        value = form_value(field, getattr(answers, field.name))
        form[field.name] = value if isinstance(value, list) else [value]
    values, errors = parse_step_form(step, form)
    assert errors == {}
    assert values == {field.name: getattr(answers, field.name) for field in step.fields}


def test_step_for() -> None:
    assert step_for(KINDS["policy"], "desk") is POLICY_STEPS[4]
    assert step_for(KINDS["policy"], "nope") is None


TYPED = [field for field in FIELDS if field.kind != "choices"]


@pytest.mark.parametrize("field", TYPED, ids=lambda field: field.name)
def test_every_typed_field_stays_literal_text(field: Field) -> None:
    answers = filled()
    value: object = HOSTILE if field.kind == "lines" else ("\n" if field.kind == "textarea" else " ").join(HOSTILE)
    setattr(answers, field.name, value)
    soup = soup_of(answers)
    assert soup.find_all(["a", "script", "strong", "em", "code", "s", "del", "blockquote", "h1", "h3", "ol"]) == []
    assert soup.find_all("div") == [] and h2_titles(soup) == ALL_HEADINGS
    text = soup.get_text()
    for hostile in HOSTILE if field.kind != "text" else [" ".join(HOSTILE)]:
        assert hostile in text, (field.name, hostile)


def test_the_new_sections_say_what_the_guideline_asks() -> None:
    text = visible_text(filled())
    for words in (
        "合理的配慮",
        "建設的対話",
        "不当な差別的取扱い",
        "認知症",
        "法令の範囲内",
        "管理監督者を含むすべての従業員",
        "他社の従業員に行き過ぎた言動をしないよう",
        "他社から、当社の従業員の言動について",
        "双方から話を聞き",
        "相談を受けるときの手引き",
    ):
        assert words in text, words
    answers = filled()
    answers.service_duty_note = "宿泊(旅館業法)"
    items = [li.get_text() for li in soup_of(answers).find_all("li")]
    assert "法令で提供が求められている当社のサービス: 宿泊(旅館業法)" in items
    assert "他社からの協力の求めを受ける窓口: 人事部 ハラスメント相談窓口" in items


def test_the_old_partners_choice_is_gone_and_its_key_in_a_stored_draft_is_ignored() -> None:
    outside = next(field for field in FIELDS if field.name == "outside")
    assert outside.option("partners") is None
    answers = filled()
    answers.outside = ["call_110", "partners"]
    text = visible_text(answers)
    assert "ためらわずに110番通報します" in text and "同様の行為をしないよう努め" not in text
