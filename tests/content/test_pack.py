"""Pack validation: every problem is reported with file, line and what is wrong; nothing is half-read."""

import shutil
from pathlib import Path

import pytest

from app.content.errors import PackInvalid
from app.content.pack import load_pack
from tests.conftest import MINI_COURSE


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(MINI_COURSE, target)
    return target


def errors_of(path: Path) -> list[str]:
    with pytest.raises(PackInvalid) as caught:
        load_pack(path)
    return [str(error) for error in caught.value.errors]


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_fixture_pack_is_valid(pack: Path) -> None:
    loaded = load_pack(pack)
    assert [lesson.slug for lesson in loaded.lessons] == ["basics", "responses", "glossary"]
    assert loaded.assets.keys() == {"images/flow.svg"}


def test_single_choice_with_two_correct_answers_names_file_and_line(pack: Path) -> None:
    replace(
        pack / "quizzes/01-basics.yaml",
        "- {id: b, text: 顧客の年齢と来店回数,",
        "- {id: b, correct: true, text: 顧客の年齢と来店回数,",
    )
    assert errors_of(pack) == [
        "quizzes/01-basics.yaml:7: questions[0]: single の問題には正解 (correct: true) がちょうど1つ必要です"
    ]


def test_yaml_syntax_error_reports_the_line(pack: Path) -> None:
    replace(pack / "quizzes/02-responses.yaml", "draw: 2", "draw: [2")
    (problem,) = errors_of(pack)
    assert problem.startswith("quizzes/02-responses.yaml:") and "YAML の書式が正しくありません" in problem


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("course.yaml", "file: lessons/02-responses.md", "file: lessons/99-missing.md",
         "course.yaml:9: lessons/99-missing.md が見つかりません"),
        ("course.yaml", "slug: mini-course", "slug: Mini Course",
         "course.yaml:1: slug: 形式が正しくありません(半角英小文字・数字・- で書いてください)"),
        ("course.yaml", "title: テスト用ミニコース", "titel: テスト用ミニコース",
         "course.yaml:1: title: 必須の項目がありません"),
        ("course.yaml", "  draw: 4", "  draw: 40",
         "course.yaml:16: final_test.draw (40) が全レッスンの問題数 (6) を超えています"),
        ("lessons/01-basics.md", "minutes: 5", "minutes: many",
         "lessons/01-basics.md:4: minutes: 整数にしてください"),
        ("lessons/01-basics.md", "{{ law_effective_date }}", "{{ law_date }}",
         "lessons/01-basics.md: 変数 {{ law_date }} が course.yaml の variables にありません"),
        ("lessons/01-basics.md", "!!! point", "!!! danger",
         "lessons/01-basics.md: 囲み「danger」は使えません(使えるのは point, caution, case)"),
        ("lessons/01-basics.md", "## 定義", "# 定義",
         "lessons/01-basics.md:7: 見出しは ## から始めてください(# はページの題名に使われます)"),
        ("lessons/01-basics.md", "![対応の流れ](images/flow.svg)", "![対応の流れ](images/nope.svg)",
         "lessons/01-basics.md: 画像 images/nope.svg が見つかりません"),
        ("lessons/01-basics.md", "![対応の流れ](images/flow.svg)", "![](images/flow.svg)",
         "lessons/01-basics.md: 画像 images/flow.svg に代替テキスト ![説明](…) がありません"),
        ("quizzes/01-basics.yaml", "misconception: customer-is-god, feedback", "misconception: no-such-thing, feedback",
         "quizzes/01-basics.yaml:7: b-single: 誤解「no-such-thing」が course.yaml の misconceptions にありません"),
        ("quizzes/01-basics.yaml", "type: single", "type: essay",
         "quizzes/01-basics.yaml:7: questions[0]: type「essay」は使えません(使えるのは 'single', 'multiple', "
         "'true_false', 'ordering', 'scenario')"),
        ("quizzes/02-responses.yaml", "id: r-scenario", "id: b-single",
         "quizzes/02-responses.yaml:16: 問題 id「b-single」は quizzes/01-basics.yaml でも使われています"),
        ("quizzes/02-responses.yaml", "rating: best,", "rating: great,",
         "quizzes/02-responses.yaml:22: questions[1].responses[0].rating: 'best', 'acceptable', 'risky' or 'harmful' "
         "のいずれかにしてください"),
    ],
)  # fmt: skip
def test_each_problem_is_named_precisely(pack: Path, file: str, old: str, new: str, expected: str) -> None:
    replace(pack / file, old, new)
    assert expected in errors_of(pack)


def test_all_problems_are_reported_at_once(pack: Path) -> None:
    replace(pack / "lessons/01-basics.md", "minutes: 5", "minutes: 0")
    replace(pack / "quizzes/02-responses.yaml", "title: 理解度テスト 対応", "title: ''")
    assert len(errors_of(pack)) == 2


def test_non_utf8_text_is_refused(pack: Path) -> None:
    (pack / "lessons/02-responses.md").write_bytes("---\ntitle: 対応\n---\n".encode("cp932"))
    (problem,) = errors_of(pack)
    assert problem.startswith("lessons/02-responses.md: UTF-8 として読めません")


def test_svg_with_script_is_refused(pack: Path) -> None:
    (pack / "images/flow.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    assert errors_of(pack) == ["images/flow.svg: SVG にスクリプト、イベント属性、外部参照は含められません"]


def test_paths_may_not_leave_the_pack(pack: Path) -> None:
    replace(pack / "course.yaml", "file: lessons/02-responses.md", "file: ../../etc/passwd")
    assert any(
        problem.startswith("course.yaml:9: lessons[1].file: 形式が正しくありません") for problem in errors_of(pack)
    )
