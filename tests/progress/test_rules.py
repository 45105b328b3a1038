import pytest

from app.progress.rules import LessonState, LessonStatus, NextStep, is_complete, next_step, progress_percent

ALL = {"all_lessons_read": True, "all_quizzes_passed": True, "final_test_passed": True}


def lesson(slug: str, *, read: bool = False, passed: bool = False, opened: bool = False, quiz: bool = True):
    return LessonState(slug=slug, has_quiz=quiz, opened=opened or read, read=read, passed=passed)


def test_complete_only_when_every_lesson_read_every_test_and_final_passed() -> None:
    done = [lesson("a", read=True, passed=True), lesson("b", read=True, quiz=False)]
    assert is_complete(ALL, done, has_final=True, final_passed=True)
    assert not is_complete(ALL, done, has_final=True, final_passed=False)
    assert not is_complete(ALL, [lesson("a", read=True), done[1]], has_final=False, final_passed=False)
    assert not is_complete(ALL, [lesson("a", passed=True), done[1]], has_final=False, final_passed=False)


def test_rule_flags_relax_requirements() -> None:
    read_only = [lesson("a", read=True), lesson("b", read=True)]
    rule = {"all_lessons_read": True, "all_quizzes_passed": False, "final_test_passed": False}
    assert is_complete(rule, read_only, has_final=True, final_passed=False)
    assert not is_complete({**rule, "all_lessons_read": False}, read_only, has_final=False, final_passed=False)


def test_progress_percent_counts_reads_passes_and_final() -> None:
    lessons = [lesson("a", read=True, passed=True), lesson("b", read=True), lesson("c")]
    # steps: 3 reads (2 done) + 3 tests (1 done) + final (0) = 3 of 7
    assert progress_percent(ALL, lessons, has_final=True, final_passed=False) == 43


@pytest.mark.parametrize(
    ("lessons", "final_passed", "expected"),
    [
        ([lesson("a"), lesson("b")], False, NextStep("lesson", "a")),
        ([lesson("a", read=True), lesson("b")], False, NextStep("quiz", "a")),
        ([lesson("a", read=True, passed=True), lesson("b")], False, NextStep("lesson", "b")),
        ([lesson("a", read=True, passed=True)], False, NextStep("final")),
        ([lesson("a", read=True, passed=True)], True, NextStep("done")),
    ],
)
def test_next_step_resumes_where_the_learner_stopped(lessons, final_passed, expected) -> None:
    assert next_step(lessons, has_final=True, final_passed=final_passed) == expected


def test_status_labels_follow_progress() -> None:
    assert lesson("a").status is LessonStatus.NOT_STARTED
    assert lesson("a", opened=True).status is LessonStatus.IN_PROGRESS
    assert lesson("a", read=True).status is LessonStatus.READ
    assert lesson("a", read=True, passed=True).status is LessonStatus.PASSED
    assert lesson("a", read=True, quiz=False).status is LessonStatus.READ
