"""The course pack format: `course.yaml` and each lesson's front matter.

`docs/content-format.md` embeds the JSON Schema generated from these models (`lms content schema`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.quiz.schemas import FinalTest
from app.quiz.types.base import Slug

RelativePath = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*(/[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)*$",
        description="a path inside the pack folder, with '/' separators",
    ),
]
VariableName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,40}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LessonEntry(_Strict):
    slug: Slug = Field(description="stable across versions: progress carries over while the slug stays")
    file: RelativePath = Field(description="the lesson's Markdown file")
    quiz: RelativePath | None = Field(default=None, description="the lesson's 理解度テスト (YAML)")


class AppendixEntry(_Strict):
    """A page the learner may read (introduction, glossary) that does not count towards completion."""

    slug: Slug
    file: RelativePath


class CompletionRule(_Strict):
    all_lessons_read: bool = True
    all_quizzes_passed: bool = True
    final_test_passed: bool = True


class Misconception(_Strict):
    label: str = Field(min_length=1, max_length=200, description="the mistaken belief, as a learner would say it")
    correction: str = Field(min_length=1, max_length=1000, description="what is true instead")


class CourseFile(_Strict):
    """`course.yaml` at the root of a pack."""

    slug: Slug
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=2000)
    lessons: list[LessonEntry] = Field(min_length=1)
    appendices: list[AppendixEntry] = Field(default_factory=list)
    final_test: FinalTest | None = None
    completion: CompletionRule = Field(default_factory=CompletionRule)
    misconceptions: dict[Slug, Misconception] = Field(default_factory=dict)
    variables: dict[VariableName, str] = Field(
        default_factory=dict,
        description="values written into lessons and quizzes as {{ name }}: dates that may change live here once",
    )

    @model_validator(mode="after")
    def _unique_slugs(self) -> CourseFile:
        seen: set[str] = set()
        for slug in [lesson.slug for lesson in self.lessons] + [a.slug for a in self.appendices]:
            if slug in seen:
                raise ValueError(f"レッスンの slug「{slug}」が重複しています")
            seen.add(slug)
        if self.final_test and not any(lesson.quiz for lesson in self.lessons):
            raise ValueError("final_test は、テストのあるレッスンが1つ以上あるときだけ設定できます")
        return self


class LessonFrontMatter(_Strict):
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=1000)
    minutes: int = Field(ge=1, le=240, description="estimated reading time in minutes")
