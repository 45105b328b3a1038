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
        (
            "course.yaml",
            "file: lessons/02-responses.md",
            "file: lessons/99-missing.md",
            "course.yaml:9: lessons/99-missing.md が見つかりません",
        ),
        (
            "course.yaml",
            "slug: mini-course",
            "slug: Mini Course",
            "course.yaml:1: slug: 形式が正しくありません(半角英小文字・数字・- で書いてください)",
        ),
        (
            "course.yaml",
            "title: テスト用ミニコース",
            "titel: テスト用ミニコース",
            "course.yaml:1: title: 必須の項目がありません",
        ),
        (
            "course.yaml",
            "  draw: 4",
            "  draw: 40",
            "course.yaml:16: final_test.draw (40) が全レッスンの問題数 (6) を超えています",
        ),
        ("lessons/01-basics.md", "minutes: 5", "minutes: many", "lessons/01-basics.md:4: minutes: 整数にしてください"),
        (
            "lessons/01-basics.md",
            "{{ law_effective_date }}",
            "{{ law_date }}",
            "lessons/01-basics.md: 変数 {{ law_date }} が course.yaml の variables にありません",
        ),
        (
            "lessons/01-basics.md",
            "!!! point",
            "!!! danger",
            "lessons/01-basics.md: 囲み「danger」は使えません(使えるのは point, caution, case)",
        ),
        (
            "lessons/01-basics.md",
            "## 定義",
            "# 定義",
            "lessons/01-basics.md:7: 見出しは ## から始めてください(# はページの題名に使われます)",
        ),
        (
            "lessons/01-basics.md",
            "![対応の流れ](images/flow.svg)",
            "![対応の流れ](images/nope.svg)",
            "lessons/01-basics.md: 画像 images/nope.svg が見つかりません",
        ),
        (
            "lessons/01-basics.md",
            "![対応の流れ](images/flow.svg)",
            "![](images/flow.svg)",
            "lessons/01-basics.md: 画像 images/flow.svg に代替テキスト ![説明](…) がありません",
        ),
        (
            "quizzes/01-basics.yaml",
            "misconception: customer-is-god, feedback",
            "misconception: no-such-thing, feedback",
            "quizzes/01-basics.yaml:7: b-single: 誤解「no-such-thing」が course.yaml の misconceptions にありません",
        ),
        (
            "quizzes/01-basics.yaml",
            "type: single",
            "type: essay",
            "quizzes/01-basics.yaml:7: questions[0]: type「essay」は使えません(使えるのは 'single', 'multiple', "
            "'true_false', 'ordering', 'scenario')",
        ),
        (
            "quizzes/02-responses.yaml",
            "id: r-scenario",
            "id: b-single",
            "quizzes/02-responses.yaml:16: 問題 id「b-single」は quizzes/01-basics.yaml でも使われています",
        ),
        (
            "quizzes/02-responses.yaml",
            "rating: best,",
            "rating: great,",
            "quizzes/02-responses.yaml:22: questions[1].responses[0].rating: "
            "'best', 'acceptable', 'risky' or 'harmful' のいずれかにしてください",
        ),
    ],
)
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


def test_svg_is_stored_only_after_sanitising(pack: Path) -> None:
    (pack / "images/flow.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect onclick="alert(2)" width="5"/></svg>'
    )
    stored = load_pack(pack).assets["images/flow.svg"]
    assert stored.content_type == "image/svg+xml"
    assert b"script" not in stored.data and b"onclick" not in stored.data and b"<rect" in stored.data


def test_svg_with_an_entity_bomb_is_refused(pack: Path) -> None:
    (pack / "images/flow.svg").write_text(
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        '<svg xmlns="http://www.w3.org/2000/svg"><text>&b;</text></svg>'
    )
    (problem,) = errors_of(pack)
    assert problem.startswith("images/flow.svg: <!DOCTYPE> や <!ENTITY> は使えません")


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("images/photo.png", b"<html><script>alert(1)</script></html>", "ファイルの中身が .png ではありません"),
        ("images/photo.jpg", b"\x89PNG\r\n\x1a\n0000", "ファイルの中身が .jpg ではありません"),
        ("images/photo.webp", b"RIFF0000WAVE", "ファイルの中身が .webp ではありません"),
        ("handouts/manual.pdf", b"<html></html>", "ファイルの中身が .pdf ではありません"),
        ("images/page.html", b"<html></html>", "images/ に置けるのは"),
        ("handouts/tool.exe", b"MZ", "handouts/ に置けるのは .pdf のファイルだけです"),
    ],
)
def test_assets_must_be_what_their_names_say(pack: Path, name: str, data: bytes, expected: str) -> None:
    (pack / name).parent.mkdir(exist_ok=True)
    (pack / name).write_bytes(data)
    (problem,) = errors_of(pack)
    assert problem.startswith(f"{name}: {expected}")


def test_pdf_handouts_and_links_to_them_are_kept(pack: Path) -> None:
    (pack / "handouts").mkdir()
    (pack / "handouts/manual.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    replace(pack / "lessons/02-responses.md", "## ", "[応対マニュアル(PDF)](handouts/manual.pdf)\n\n## ")
    loaded = load_pack(pack)
    assert loaded.assets["handouts/manual.pdf"].content_type == "application/pdf"


def test_links_to_missing_or_outside_files_are_refused(pack: Path) -> None:
    replace(pack / "lessons/02-responses.md", "## ", "[資料](handouts/none.pdf) [秘密](../secret.txt)\n\n## ")
    problems = errors_of(pack)
    assert "lessons/02-responses.md: リンク先 handouts/none.pdf が見つかりません" in problems
    assert any(p.startswith("lessons/02-responses.md: リンク ../secret.txt はパックの") for p in problems)


def test_yaml_alias_bomb_is_refused_before_it_expands(pack: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)
    )
    (pack / "quizzes/02-responses.yaml").write_text(bomb)
    (problem,) = errors_of(pack)
    assert problem == (
        "quizzes/02-responses.yaml:1: YAML のアンカー(&)とエイリアス(*)は使えません。内容をそのまま書いてください"
    )


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system ['id']", "!custom {a: 1}", "!!binary aGVsbG8="])
def test_yaml_tags_are_refused(pack: Path, tag: str) -> None:
    replace(pack / "course.yaml", "title: テスト用ミニコース", f"title: {tag}")
    (problem,) = errors_of(pack)
    assert problem.startswith("course.yaml:2: YAML のタグ(")


def test_unknown_question_type_names_the_allowed_ones(pack: Path) -> None:
    replace(pack / "quizzes/01-basics.yaml", "type: single", "type: essay")
    problems = errors_of(pack)
    assert any("type「essay」は使えません" in problem for problem in problems), problems


def test_symlink_in_a_pack_folder_is_refused(pack: Path) -> None:
    (pack / "images/link.svg").symlink_to("/etc/passwd")
    assert errors_of(pack) == ["images/link.svg: シンボリックリンクは使えません"]


def test_paths_may_not_leave_the_pack(pack: Path) -> None:
    replace(pack / "course.yaml", "file: lessons/02-responses.md", "file: ../../etc/passwd")
    assert any(
        problem.startswith("course.yaml:9: lessons[1].file: 形式が正しくありません") for problem in errors_of(pack)
    )
