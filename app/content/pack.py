"""Reading and validating a course pack folder, completely, before anything is written anywhere.

Every problem found is collected (not just the first), each with the file, the line where the YAML allows it,
and what is wrong, in Japanese.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from app.content import markdown
from app.content.errors import ContentError, PackInvalid, pydantic_message
from app.content.schemas import CourseFile, LessonFrontMatter
from app.quiz.schemas import QuizFile

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
               ".svg": "image/svg+xml"}  # fmt: skip
MAX_TEXT_BYTES = 1_000_000
FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n?(.*)\Z", re.DOTALL)
SVG_FORBIDDEN = re.compile(r"<script|\son[a-z]+\s*=|javascript:|<foreignObject|xlink:href\s*=\s*[\"']?(?!#)",
                           re.IGNORECASE)  # fmt: skip


@dataclass
class PackLesson:
    slug: str
    file: str
    front: LessonFrontMatter
    body: str
    is_appendix: bool
    quiz_file: str | None = None
    quiz: QuizFile | None = None


@dataclass
class Pack:
    root: Path
    course: CourseFile
    lessons: list[PackLesson]
    assets: dict[str, bytes] = field(default_factory=dict)
    source_hash: str = ""


class _Collector:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.errors: list[ContentError] = []
        self.digest = hashlib.sha256()

    def add(self, file: str, message: str, line: int | None = None) -> None:
        self.errors.append(ContentError(file=file, line=line, message=message))

    def read_text(self, relative: str, *, referenced_from: str, line: int | None) -> str | None:
        path = self.root / relative
        if not path.is_file():
            self.add(referenced_from, f"{relative} が見つかりません", line)
            return None
        data = path.read_bytes()
        if len(data) > MAX_TEXT_BYTES:
            self.add(relative, f"ファイルが大きすぎます({MAX_TEXT_BYTES:,} バイトまで)")
            return None
        self.digest.update(relative.encode() + b"\0" + data)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            self.add(relative, f"UTF-8 として読めません({error.start} バイト目)。UTF-8 で保存してください")
            return None

    def load_yaml(self, text: str, file: str, line_offset: int = 0) -> tuple[Any, yaml.Node | None]:
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 + line_offset if mark else None
            problem = getattr(error, "problem", None) or str(error)
            self.add(file, f"YAML の書式が正しくありません: {problem}", line)
            return None, None
        return data, node

    def validate(
        self, model: type[BaseModel], data: Any, node: yaml.Node | None, file: str, line_offset: int = 0
    ) -> Any:
        try:
            return model.model_validate(data if data is not None else {})
        except ValidationError as error:
            for problem in error.errors():
                loc = tuple(problem["loc"])
                line = _line_of(node, loc)
                where = _format_loc(loc)
                line = line + line_offset if line is not None else None
                self.add(
                    file,
                    f"{where}: {pydantic_message(problem)}" if where else pydantic_message(problem),
                    line,
                )
            return None


def _format_loc(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("single", "multiple", "true_false", "ordering", "scenario"):
            continue  # the discriminator's branch name adds nothing for the author
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the deepest YAML node along a Pydantic error location."""
    if node is None:
        return None
    best = node.start_mark.line + 1
    current: yaml.Node | None = node
    for item in loc:
        if isinstance(current, yaml.MappingNode) and isinstance(item, str):
            match = next((v for k, v in current.value if getattr(k, "value", None) == item), None)
            if match is None:
                continue
            current = match
        elif isinstance(current, yaml.SequenceNode) and isinstance(item, int) and item < len(current.value):
            current = current.value[item]
        else:
            continue
        best = current.start_mark.line + 1
    return best


def _question_line(node: yaml.Node | None, index: int) -> int | None:
    return _line_of(node, ("questions", index))


def _check_lesson_body(c: _Collector, pack: Path, file: str, body: str, offset: int, variables: dict[str, str]) -> None:
    for name in markdown.unknown_variables(body, variables):
        c.add(file, f"変数 {{{{ {name} }}}} が course.yaml の variables にありません")
    for kind in markdown.admonition_types(body):
        if kind not in markdown.ADMONITION_TITLES:
            allowed = ", ".join(markdown.ADMONITION_TITLES)
            c.add(file, f"囲み「{kind}」は使えません(使えるのは {allowed})")
    for line_no, line in enumerate(body.splitlines(), start=1 + offset):
        if re.match(r"^#\s", line):
            c.add(file, "見出しは ## から始めてください(# はページの題名に使われます)", line_no)
    for alt, src in markdown.image_references(body):
        if re.match(r"^[a-z]+:", src):
            c.add(file, f"画像 {src} はパックの中のファイルを指してください")
            continue
        if not alt.strip():
            c.add(file, f"画像 {src} に代替テキスト ![説明](…) がありません")
        if not (pack / src).is_file():
            c.add(file, f"画像 {src} が見つかりません")


def _check_quiz_references(
    c: _Collector,
    file: str,
    quiz: QuizFile,
    node: yaml.Node | None,
    course: CourseFile,
    seen_ids: dict[str, str],
) -> None:
    known = set(course.misconceptions)
    for index, question in enumerate(quiz.questions):
        line = _question_line(node, index)
        if question.id in seen_ids:
            c.add(file, f"問題 id「{question.id}」は {seen_ids[question.id]} でも使われています", line)
        seen_ids[question.id] = file
        named = [getattr(question, "misconception", None)]
        named += [item.misconception for item in getattr(question, "choices", [])]
        named += [item.misconception for item in getattr(question, "responses", [])]
        for key in named:
            if key and key not in known:
                c.add(file, f"{question.id}: 誤解「{key}」が course.yaml の misconceptions にありません", line)
        raw = yaml.safe_dump(question.model_dump(mode="json"), allow_unicode=True)
        for name in markdown.unknown_variables(raw, course.variables):
            c.add(file, f"{question.id}: 変数 {{{{ {name} }}}} が course.yaml の variables にありません", line)


def _collect_assets(c: _Collector) -> dict[str, bytes]:
    assets: dict[str, bytes] = {}
    images = c.root / "images"
    if not images.is_dir():
        return assets
    for path in sorted(images.rglob("*")):
        if path.is_symlink():
            c.add(str(path.relative_to(c.root)), "シンボリックリンクは使えません")
            continue
        if not path.is_file():
            continue
        relative = path.relative_to(c.root).as_posix()
        if path.suffix.lower() not in IMAGE_TYPES:
            c.add(relative, f"この種類の画像は使えません(使えるのは {', '.join(IMAGE_TYPES)})")
            continue
        data = path.read_bytes()
        if path.suffix.lower() == ".svg" and SVG_FORBIDDEN.search(data.decode("utf-8", "replace")):
            c.add(relative, "SVG にスクリプト、イベント属性、外部参照は含められません")
            continue
        c.digest.update(relative.encode() + b"\0" + data)
        assets[relative] = data
    return assets


def _load_lesson(
    c: _Collector, course: CourseFile, slug: str, file: str, is_appendix: bool, line: int | None
) -> PackLesson | None:
    source = c.read_text(file, referenced_from="course.yaml", line=line)
    if source is None:
        return None
    match = FRONT_MATTER.match(source)
    if not match:
        c.add(file, "先頭に --- で囲んだ front matter(title, summary, minutes)が必要です", 1)
        return None
    front_data, front_node = c.load_yaml(match.group(1), file, line_offset=1)
    front = c.validate(LessonFrontMatter, front_data, front_node, file, line_offset=1)
    body = match.group(2)
    offset = match.group(1).count("\n") + 3  # the front matter lines and its two --- lines
    _check_lesson_body(c, c.root, file, body, offset, course.variables)
    return PackLesson(slug, file, front, body, is_appendix) if front else None


def _load_quiz(
    c: _Collector, course: CourseFile, file: str, line: int | None, seen_ids: dict[str, str]
) -> QuizFile | None:
    text = c.read_text(file, referenced_from="course.yaml", line=line)
    if text is None:
        return None
    data, node = c.load_yaml(text, file)
    quiz: QuizFile | None = c.validate(QuizFile, data, node, file) if data is not None else None
    if quiz is not None:
        _check_quiz_references(c, file, quiz, node, course, seen_ids)
    return quiz


def load_pack(root: Path) -> Pack:
    """Read and validate a whole pack; raise PackInvalid listing every problem found."""
    c = _Collector(root)
    if not root.is_dir():
        raise PackInvalid([ContentError(file=str(root), line=None, message="フォルダが見つかりません")])
    text = c.read_text("course.yaml", referenced_from=".", line=None)
    if text is None:
        raise PackInvalid(c.errors)
    data, course_node = c.load_yaml(text, "course.yaml")
    course: CourseFile | None = c.validate(CourseFile, data, course_node, "course.yaml") if data is not None else None
    if course is None:
        raise PackInvalid(c.errors)

    for key, misconception in course.misconceptions.items():
        for name in markdown.unknown_variables(misconception.label + misconception.correction, course.variables):
            line = _line_of(course_node, ("misconceptions", key))
            c.add("course.yaml", f"misconceptions.{key}: 変数 {{{{ {name} }}}} が variables にありません", line)
    lessons: list[PackLesson] = []
    seen_question_ids: dict[str, str] = {}
    all_quizzes_loaded = True
    entries = [(entry, False, index) for index, entry in enumerate(course.lessons)]
    entries += [(entry, True, index) for index, entry in enumerate(course.appendices)]
    for entry, is_appendix, index in entries:
        section = "appendices" if is_appendix else "lessons"
        lesson = _load_lesson(c, course, entry.slug, entry.file, is_appendix,
                              _line_of(course_node, (section, index, "file")))  # fmt: skip
        quiz_path = getattr(entry, "quiz", None)
        if quiz_path:
            quiz = _load_quiz(c, course, quiz_path, _line_of(course_node, (section, index, "quiz")), seen_question_ids)
            all_quizzes_loaded = all_quizzes_loaded and quiz is not None
            if lesson and quiz:
                lesson.quiz_file, lesson.quiz = quiz_path, quiz
        if lesson:
            lessons.append(lesson)

    # With a quiz unreadable the count would be wrong, and the error about it would mislead.
    if all_quizzes_loaded and course.final_test and course.final_test.draw > len(seen_question_ids):
        line = _line_of(course_node, ("final_test", "draw"))
        c.add("course.yaml", f"final_test.draw ({course.final_test.draw}) が全レッスンの問題数 "
                             f"({len(seen_question_ids)}) を超えています", line)  # fmt: skip
    assets = _collect_assets(c)
    if c.errors:
        raise PackInvalid(c.errors)
    return Pack(root=root, course=course, lessons=lessons, assets=assets, source_hash=c.digest.hexdigest())
