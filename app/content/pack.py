"""Reading and validating a course pack folder, completely, before anything is written anywhere.

Every problem found is collected (not just the first), each with the file, the line where the YAML allows it,
and what is wrong, in Japanese.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from app.content import markdown
from app.content.errors import ContentError, PackInvalid, pydantic_message
from app.content.schemas import CourseFile, LessonFrontMatter
from app.content.svg import SvgRefused, sanitise_svg
from app.quiz.registry import TYPE_NAMES
from app.quiz.schemas import QuizFile

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}
HANDOUT_TYPES = {".pdf": "application/pdf"}
ASSET_FOLDERS = {"images/": IMAGE_TYPES, "handouts/": HANDOUT_TYPES}
MAX_TEXT_BYTES = 1_000_000
FRONT_MATTER = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n?(.*)\Z", re.DOTALL)
JUNK = re.compile(r"(^|/)(__MACOSX|\.DS_Store|\._[^/]*|Thumbs\.db|\.git)(/|$)")


@dataclass
class PackLesson:
    slug: str
    file: str
    front: LessonFrontMatter
    body: str
    is_appendix: bool
    quiz_file: str | None = None
    quiz: QuizFile | None = None


@dataclass(frozen=True)
class PackAsset:
    content_type: str
    data: bytes


@dataclass
class Pack:
    name: str
    course: CourseFile
    lessons: list[PackLesson]
    files: dict[str, bytes]
    assets: dict[str, PackAsset] = field(default_factory=dict)
    source_hash: str = ""


class _Collector:
    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = files
        self.errors: list[ContentError] = []
        self.digest = hashlib.sha256()

    def add(self, file: str, message: str, line: int | None = None) -> None:
        self.errors.append(ContentError(file=file, line=line, message=message))

    def read_text(self, relative: str, *, referenced_from: str, line: int | None) -> str | None:
        data = self.files.get(relative)
        if data is None:
            self.add(referenced_from, f"{relative} が見つかりません", line)
            return None
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
            if not self._plain_yaml(text, file, line_offset):
                return None, None
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            line = mark.line + 1 + line_offset if mark else None
            problem = getattr(error, "problem", None) or str(error)
            self.add(file, f"YAML の書式が正しくありません: {problem}", line)
            return None, None
        return data, node

    def _plain_yaml(self, text: str, file: str, line_offset: int) -> bool:
        """Refuse anchors, aliases and explicit tags before anything is built: an alias bomb expands to
        gigabytes only when loaded, and packs never need either feature."""
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1 + line_offset
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                self.add(file, "YAML のアンカー(&)とエイリアス(*)は使えません。内容をそのまま書いてください", line)
                return False
            tag = getattr(event, "tag", None) if isinstance(event, yaml.NodeEvent) else None
            if tag is not None:
                self.add(file, f"YAML のタグ({tag})は使えません", line)
                return False
        return True

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
        elif item in TYPE_NAMES:
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


def _check_lesson_body(c: _Collector, file: str, body: str, offset: int, variables: dict[str, str]) -> None:
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
        if src not in c.files:
            c.add(file, f"画像 {src} が見つかりません")
    for href in markdown.local_links(body):
        if not href.startswith(tuple(ASSET_FOLDERS)):
            c.add(file, f"リンク {href} はパックの images/ か handouts/ のファイルか、https:// の URL にしてください")
        elif href not in c.files:
            c.add(file, f"リンク先 {href} が見つかりません")


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


MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "application/pdf": (b"%PDF-",),
}


def _looks_like(content_type: str, data: bytes) -> bool:
    """The file is what its name says: a browser told image/png must not be handed HTML."""
    if content_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return data.startswith(MAGIC.get(content_type, (b"",)))


def _collect_assets(c: _Collector) -> dict[str, PackAsset]:
    assets: dict[str, PackAsset] = {}
    for relative in sorted(c.files):
        folder = next((prefix for prefix in ASSET_FOLDERS if relative.startswith(prefix)), None)
        if folder is None:
            continue
        types = ASSET_FOLDERS[folder]
        suffix = "." + relative.rsplit(".", 1)[-1].lower() if "." in relative else ""
        if suffix not in types:
            c.add(relative, f"{folder} に置けるのは {', '.join(types)} のファイルだけです")
            continue
        content_type, data = types[suffix], c.files[relative]
        if content_type == "image/svg+xml":
            try:
                data = sanitise_svg(data)
            except SvgRefused as error:
                c.add(relative, str(error))
                continue
        elif not _looks_like(content_type, data):
            c.add(relative, f"ファイルの中身が {suffix} ではありません(拡張子と形式が一致しません)")
            continue
        c.digest.update(relative.encode() + b"\0" + c.files[relative])
        assets[relative] = PackAsset(content_type, data)
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
    _check_lesson_body(c, file, body, offset, course.variables)
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


def read_folder(root: Path) -> dict[str, bytes]:
    """Every file of a pack folder by its posix path; symlinks are refused, editor and OS junk skipped."""
    if not root.is_dir():
        raise PackInvalid([ContentError(file=str(root), line=None, message="フォルダが見つかりません")])
    files: dict[str, bytes] = {}
    errors: list[ContentError] = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if JUNK.search(relative):
            continue
        if path.is_symlink():
            errors.append(ContentError(file=relative, line=None, message="シンボリックリンクは使えません"))
        elif path.is_file():
            files[relative] = path.read_bytes()
    if errors:
        raise PackInvalid(errors)
    return files


def load_pack(root: Path) -> Pack:
    """Read and validate a pack folder; raise PackInvalid listing every problem found."""
    return load_pack_files(read_folder(root), name=str(root))


def load_pack_files(files: Mapping[str, bytes], *, name: str) -> Pack:
    """Validate a whole pack given as {path: bytes}; raise PackInvalid listing every problem found."""
    c = _Collector(files)
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
        lesson = _load_lesson(
            c, course, entry.slug, entry.file, is_appendix, _line_of(course_node, (section, index, "file"))
        )
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
        c.add(
            "course.yaml",
            f"final_test.draw ({course.final_test.draw}) が全レッスンの問題数 "
            f"({len(seen_question_ids)}) を超えています",
            line,
        )
    assets = _collect_assets(c)
    if c.errors:
        raise PackInvalid(c.errors)
    return Pack(
        name=name, course=course, lessons=lessons, files=dict(files), assets=assets, source_hash=c.digest.hexdigest()
    )
