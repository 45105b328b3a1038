"""The corpus shaped as what an admin uploads: a course pack (lessons, quiz YAML, course.yaml) and an employee CSV.

Each comes twice: with every payload, to see the page that lists the problems, and with the payloads the app's own
validators accept, to publish or import and then see everywhere they come out. Which is which is asked of the
validators themselves (in this process), so the split follows the rules as they are.
"""

from __future__ import annotations

import csv
import io
import math
import zipfile
from pathlib import Path
from typing import Any

import yaml

from app.content.errors import PackInvalid
from app.content.pack import load_pack_files
from app.users.csv_reader import parse_employee_csv
from tests.e2e.xss_payloads import Payload, chunks

COURSE = "xss-course"
TOP_DEPARTMENT = "XSS検証部"
HOSTILE_SVG = b"""<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="120"
 height="60" viewBox="0 0 120 60" onload="window.__xss('svg-file-onload')">
  <script>window.__xss('svg-file-script')</script>
  <a xlink:href="javascript:window.__xss('svg-file-link')"><rect width="60" height="30" fill="#336"
   style="fill:url(javascript:window.__xss('svg-file-style'))"/></a>
  <animate attributeName="href" values="javascript:window.__xss('svg-file-animate')"/>
  <set attributeName="onmouseover" to="window.__xss('svg-file-set')"/>
  <foreignObject width="60" height="30"><img xmlns="http://www.w3.org/1999/xhtml" src="x"
   onerror="window.__xss('svg-file-foreign')"/></foreignObject>
  <text x="10" y="50" onclick="window.__xss('svg-file-text')">&lt;script&gt;</text>
</svg>"""


def _yaml(data: Any) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1_000_000).encode("utf-8")


def _lesson(title: str, summary: str, body: str) -> bytes:
    front = yaml.safe_dump(
        {"title": title, "summary": summary, "minutes": 5}, allow_unicode=True, sort_keys=False, width=1_000_000
    )
    return f"---\n{front}---\n\n{body}\n".encode()


def _quiz(markdown: list[str], plain: list[str], labels: list[str]) -> dict[str, Any]:
    """Questions of every type whose Markdown fields, choice texts, feedback and rationales carry the corpus; every
    misconception is behind some wrong choice, so the admin's preview lists every label."""
    keys = [f"m{index:02d}" for index in range(len(labels))]

    def md(index: int) -> str:
        return markdown[index % len(markdown)]

    def text(index: int) -> str:
        return plain[index % len(plain)]

    questions: list[dict[str, Any]] = []
    for number in range(max(math.ceil(len(keys) / 9), len(markdown))):
        wrong = [
            {"id": f"w{i}", "text": text(number * 10 + i), "feedback": text(number * 10 + i + 1), "misconception": key}
            for i, key in enumerate(keys[number * 9 : number * 9 + 9])
        ]
        questions.append(
            {
                "id": f"multiple-{number}",
                "type": "multiple",
                "prompt": md(number),
                "explanation": md(number + 1),
                "choices": [
                    *(wrong or [{"id": "w0", "text": text(number)}]),
                    {"id": "right", "text": text(number + 2), "correct": True},
                ],
            }
        )
    questions.append(
        {
            "id": "scenario",
            "type": "scenario",
            "scene": md(0),
            "prompt": md(1),
            "explanation": md(2),
            "responses": [
                {"id": f"r{i}", "text": text(i), "rating": rating, "rationale": text(i + 1)}
                for i, rating in enumerate(["harmful", "risky", "best"])
            ],
        }
    )
    questions.append(
        {
            "id": "ordering",
            "type": "ordering",
            "prompt": md(1),
            "explanation": md(0),
            "steps": [{"id": f"s{i}", "text": text(i)} for i in range(3)],
        }
    )
    questions.append(
        {
            "id": "true-false",
            "type": "true_false",
            "prompt": md(0),
            "explanation": md(1),
            "answer": True,
            "feedback_wrong": text(0),
            "misconception": keys[0] if keys else None,
        }
    )
    return {
        "title": text(0),
        "pass_mark": 80,
        "shuffle_questions": False,
        "shuffle_choices": False,
        "questions": questions,
    }


def pack_files(payloads: list[Payload]) -> dict[str, bytes]:
    """A course pack whose every free-text field carries the payloads, as {path: bytes}."""
    texts = [payload.text for payload in payloads]
    markdown = chunks(texts, 3900, "\n\n") or ["x"]
    plain = chunks(texts, 3900) or ["x"]
    titles = chunks(texts, 200) or ["x"]
    summaries = chunks(texts, 1000) or ["x"]
    corrections = chunks(texts, 1000) or ["x"]
    body = "\n\n".join([*texts, "{{ xss_variable }}", "![図](images/hostile.svg)"])
    files = {
        "lessons/00-payloads.md": _lesson(titles[0], summaries[0], body),
        "quizzes/00-payloads.yaml": _yaml(_quiz(markdown, plain, titles)),
        "lessons/90-appendix.md": _lesson(titles[-1], summaries[-1], markdown[0]),
        "images/hostile.svg": HOSTILE_SVG,
    }
    lessons = [{"slug": "payloads", "file": "lessons/00-payloads.md", "quiz": "quizzes/00-payloads.yaml"}]
    for index, title in enumerate(titles[1:], start=1):
        path = f"lessons/{index:02d}-titles.md"
        files[path] = _lesson(title, summaries[index % len(summaries)], plain[index % len(plain)])
        lessons.append({"slug": f"titles-{index:02d}", "file": path})
    course = {
        "slug": COURSE,
        "title": titles[0],
        "description": (chunks(texts, 2000) or ["x"])[0],
        "lessons": lessons,
        "appendices": [{"slug": "appendix", "file": "lessons/90-appendix.md"}],
        "final_test": {"title": plain[0], "draw": 2, "pass_mark": 80},
        "completion": {"all_lessons_read": True, "all_quizzes_passed": True, "final_test_passed": True},
        "misconceptions": {
            f"m{index:02d}": {"label": label, "correction": corrections[index % len(corrections)]}
            for index, label in enumerate(titles)
        },
        "variables": {"xss_variable": plain[0]},
    }
    files["course.yaml"] = _yaml(course)
    return files


def publishable(payloads: list[Payload]) -> list[Payload]:
    """The payloads the pack validator accepts (it refuses, e.g., images outside the pack and unknown variables)."""
    accepted = []
    for payload in payloads:
        try:
            load_pack_files(pack_files([payload]), name=COURSE)
        except PackInvalid:
            continue
        accepted.append(payload)
    return accepted


def zip_pack(files: dict[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            archive.writestr(f"{COURSE}/{name}", data)
    return path


def employee_number(index: int) -> str:
    return f"XSS{index:03d}"


def _email(payload: Payload, index: int) -> str:
    """The payload as the local part of the address when an address can hold it (no spaces, ASCII, no @)."""
    text = payload.text
    if text.isascii() and text.isprintable() and not any(char.isspace() for char in text) and "@" not in text:
        return f"{text}@example.com"
    return f"xss{index:03d}@example.com"


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["社員番号", "氏名", "メールアドレス", "部署", "<b onmouseover=window.__xss('csv-header')>列"])
    writer.writerows([*row, ""] for row in rows)
    return buffer.getvalue().encode("utf-8")


def employee_csvs(payloads: list[Payload]) -> tuple[bytes, bytes, list[str]]:
    """(every payload as a name, an address and a department — which the import refuses row by row, echoing the
    values in its messages; the rows it accepts, departments with their path separators blanked out; their
    employee numbers)."""
    raw = [[employee_number(i), p.text, _email(p, i), f"{TOP_DEPARTMENT}/{p.text}"] for i, p in enumerate(payloads)]
    blanked = [
        [number, name, email, department.split("/", 1)[0] + "/" + _blank(department.split("/", 1)[1])]
        for number, name, email, department in raw
    ]
    accepted: list[list[str]] = []
    for row in blanked:
        for candidate in (row, [*row[:2], f"{row[0].lower()}@example.com", row[3]]):
            if not parse_employee_csv(_csv([candidate])).errors:
                accepted.append(candidate)
                break
    rows_without_nul = [row for row in raw if "\x00" not in "".join(row)]  # a NUL makes the whole file unreadable
    return _csv(rows_without_nul), _csv(accepted), [row[0] for row in accepted]


def _blank(department: str) -> str:
    for separator in "/／>＞":
        department = department.replace(separator, " ")
    return department
