"""Interim checker for content authors until `lms content validate` exists: schema + lengths + misconception keys."""
import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.content.schemas import CourseFile, LessonFrontMatter  # noqa: E402
from app.quiz.schemas import QuizFile  # noqa: E402

pack = Path(sys.argv[1])
course = CourseFile.model_validate(yaml.safe_load((pack / "course.yaml").read_text()))
keys = set(course.misconceptions)
for entry in list(course.lessons) + list(course.appendices):
    p = pack / entry.file
    if not p.exists():
        print("MISSING", p)
        continue
    text = p.read_text()
    m = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
    fm = LessonFrontMatter.model_validate(yaml.safe_load(m.group(1)))
    body = re.sub(r"\s", "", m.group(2))
    for var in re.findall(r"\{\{\s*([a-z0-9_]+)\s*\}\}", text):
        if var not in course.variables:
            print("UNKNOWN VARIABLE", var, "in", p)
    print(f"{p}: {fm.title} — {len(body)} non-space chars (lessons need 4000–8000 after rendering)")
    quiz_path = getattr(entry, "quiz", None)
    if quiz_path:
        q = pack / quiz_path
        if not q.exists():
            print("MISSING", q)
            continue
        quiz = QuizFile.model_validate(yaml.safe_load(q.read_text()))
        n_scen = sum(1 for x in quiz.questions if x.type == "scenario")
        print(f"  {q}: {len(quiz.questions)} questions, {n_scen} scenario")
        for x in quiz.questions:
            used = [getattr(x, "misconception", None)]
            for c in getattr(x, "choices", []) + getattr(x, "responses", []):
                used.append(c.misconception)
                wrong = (not c.correct) if hasattr(c, "correct") else c.rating.value in ("risky", "harmful")
                if wrong and not c.misconception:
                    print("  WRONG CHOICE WITHOUT MISCONCEPTION:", x.id, c.id)
            for u in used:
                if u and u not in keys:
                    print("  UNDEFINED MISCONCEPTION:", u, "in", x.id)
print("checked")
