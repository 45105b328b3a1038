"""Keyboard only: sign in, read a lesson, take its test answering every question type, submit, see the result.

No `.click()` and no `.fill()`: focus moves with Tab (or Shift+Tab), choices are made with Space, arrow keys and
type-ahead, forms are sent with Enter. Every element that takes focus on the way must show a focus outline.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.support import console_errors, issue_password_link

pytestmark = pytest.mark.e2e
# A demo employee without e-mail and without any progress (app/demo.py, STAFF_WITHOUT_EMAIL); no other browser
# test uses the account. The admin issues a password link for them; everything after that is keyboard only.
LEARNER = "P1002"
PASSWORD = "tsukue no ue no ringo"
LESSON = "/courses/kasuhara-basics/lessons/what-is-kasuhara"  # its test bank holds all five question types
TYPE_BY_LABEL = {
    "1つ選ぶ": "single",
    "当てはまるものをすべて選ぶ": "multiple",
    "正誤": "true_false",
    "並べ替え": "ordering",
    "場面判断": "scenario",
}
MAX_ATTEMPTS = 12  # 8 of 14 questions are drawn at random: the chance of missing a type in 12 papers is ~1e-4
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {tag: el.tagName.toLowerCase(), type: el.type || "", name: el.name || "", value: el.value || "",
          checked: !!el.checked, id: el.id, text: (el.innerText || el.value || "").trim().slice(0, 40),
          question: el.closest("fieldset.question")?.id || "", inMain: !!el.closest("main"),
          outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
                   ? `${style.outlineWidth} ${style.outlineStyle} ${style.outlineColor}` : "",
          inView: box.right > 0 && box.bottom > 0 && box.left < innerWidth && box.top < innerHeight};
}"""


class Keyboard:
    """Tabs through a page and remembers every focus stop that had no visible outline."""

    def __init__(self, page) -> None:
        self.page = page
        self.unmarked: list[str] = []

    def focused(self) -> dict | None:
        return self.page.evaluate(FOCUSED)

    def press(self, key: str) -> dict | None:
        self.page.keyboard.press(key)
        here = self.focused()
        if here and key in ("Tab", "Shift+Tab") and not here["outline"]:
            self.unmarked.append(f"{self.page.url} <{here['tag']}> {here['text']!r}")
        return here

    def tab_to(self, matches, *, limit: int = 150, key: str = "Tab") -> dict:
        visited = []
        for _ in range(limit):
            here = self.press(key)
            if here and matches(here):
                return here
            visited.append(here and f"<{here['tag']}> {here['text']}")
        raise AssertionError(f"{key} never reached the wanted control on {self.page.url}; visited: {visited}")


def text_is(text: str):
    return lambda here: here["text"] == text


def answer_question(keys: Keyboard, here: dict, kind: str, position: int) -> None:
    """Answer the question whose first control has focus; `position` counts the selects of an ordering one."""
    page = keys.page
    if kind in ("single", "scenario", "true_false"):
        page.keyboard.press("Space")  # the first choice
        page.keyboard.press("ArrowDown")  # arrow keys move through the group and choose as they go
        chosen = page.locator(f"#{here['question']} input[type=radio]:checked")
        assert chosen.count() == 1 and chosen.evaluate("el => el === document.activeElement")
    elif kind == "multiple":
        page.keyboard.press("Space")
        assert page.locator(f"#{here['question']} input[type=checkbox]:checked").count() >= 1
    else:
        page.keyboard.press(str(position))  # type-ahead on a closed select picks the option "1", "2", …
        assert page.locator(f"#{here['question']} select").nth(position - 1).input_value() == str(position)


def take_test_by_keyboard(keys: Keyboard) -> set[str]:
    """Answer every question on the open attempt page, then submit; the question types seen."""
    page = keys.page
    page.locator("fieldset.question").first.wait_for()
    kinds = {}
    for fieldset in page.locator("fieldset.question").all():
        kinds[fieldset.get_attribute("id")] = TYPE_BY_LABEL[fieldset.locator(".qtype").inner_text()]
    answered: set[str] = set()
    selects_done: dict[str, int] = {}
    while True:
        here = keys.press("Tab")
        assert here is not None, f"focus fell off the page on {page.url}"
        question = here["question"]
        if question and here["tag"] in ("input", "select"):
            kind = kinds[question]
            if kind == "ordering":
                selects_done[question] = selects_done.get(question, 0) + 1
                answer_question(keys, here, kind, selects_done[question])
                if selects_done[question] == page.locator(f"#{question} select").count():
                    answered.add(question)
            elif question not in answered:
                answer_question(keys, here, kind, 0)
                answered.add(question)
            if question in answered:
                page.locator(f"#{question} .save-state").get_by_text("保存しました").wait_for()
        elif here["text"] == "提出する":
            assert answered == set(kinds), "the submit button came before every question was answered"
            assert keys.press("Shift+Tab")["question"] == list(kinds)[-1], "Shift+Tab goes back to the last question"
            assert keys.press("Tab")["text"] == "提出する"
            page.keyboard.press("Enter")
            break
    page.get_by_role("heading", name=re.compile("^結果")).wait_for()
    return set(kinds.values())


def test_a_learner_completes_a_test_with_the_keyboard_alone(live_server: str, browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = console_errors(page)
    keys = Keyboard(page)

    page.goto(live_server + issue_password_link(browser, live_server, LEARNER))
    keys.tab_to(lambda here: here["id"] == "password")
    page.keyboard.type(PASSWORD)
    assert keys.press("Tab")["id"] == "confirm"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/my\?welcome"))
    keys.tab_to(text_is("サインアウト"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/login"))

    assert keys.focused()["id"] == "email", "the sign-in page starts in its first field"
    page.keyboard.type(LEARNER)
    assert keys.press("Tab")["id"] == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/my")

    skip = keys.press("Tab")
    assert skip["text"] == "本文へ移動" and skip["inView"], "the first Tab shows the skip link"
    page.keyboard.press("Enter")
    assert keys.focused()["id"] == "main"
    course = keys.press("Tab")
    assert course["inMain"] and course["tag"] == "a", "after the skip link, Tab goes on inside the main content"
    # The course may come after the required reading (the company's policy, once another test published it).
    if course["text"] != "カスタマーハラスメント対策研修":
        keys.tab_to(text_is("カスタマーハラスメント対策研修"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/courses/kasuhara-basics$"))
    keys.tab_to(text_is("カスハラとは"))
    page.keyboard.press("Enter")
    page.wait_for_url(live_server + LESSON)
    keys.tab_to(text_is("読了にする"))
    page.keyboard.press("Enter")
    page.get_by_text("このレッスンは読了済みです。").wait_for()
    keys.tab_to(text_is("理解度テストへ進む"))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}{LESSON}/test")
    keys.tab_to(text_is("テストを始める"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/attempts/\d+$"))

    seen: set[str] = set()
    for _ in range(MAX_ATTEMPTS):
        seen |= take_test_by_keyboard(keys)
        assert re.fullmatch(r"\d+", page.locator(".score-number").inner_text())
        if seen == set(TYPE_BY_LABEL.values()):
            break
        result = page.url
        keys.tab_to(text_is("もう一度受験する"))
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url, result=result: url != result and re.search(r"/attempts/\d+$", url))
    assert seen == set(TYPE_BY_LABEL.values())
    assert keys.unmarked == [], "focus stops without a visible outline"
    assert errors == []
