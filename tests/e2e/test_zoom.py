"""The main pages stay readable on a 375 px phone and on a 1280 px screen zoomed to 200 %.

Zoom is emulated with a 640 x 450 CSS px viewport at device_scale_factor 2. That is what browser zoom does: at
200 % a CSS pixel is two device pixels, so a 1280 x 900 window lays the page out in 640 x 450 CSS pixels, and
media queries, `vw` and `innerWidth` all see 640. `document.body.style.zoom = "200%"` is not equivalent: the
viewport stays 1280 CSS px wide, the desktop media queries keep applying, and the body is magnified as a picture
of the desktop layout, so it tests a layout no user gets. `device_scale_factor` alone is not zoom either (it
sharpens pixels without changing the layout); here it only makes the screenshots as sharp as the zoomed screen.

Checks: no sideways scrolling of the document; no text cut off in the elements a reader needs (headings, labels,
buttons, choices, navigation, badges): such an element must neither stick out of the window (unless it is inside
a box that scrolls sideways on purpose, such as a wide table) nor hide overflowing text; and no text field, select
or button too small to read or tap.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.support import console_errors, shot, sign_in, start_attempt, submitted_attempt

pytestmark = pytest.mark.e2e
# A demo learner who takes their own tests below, whatever progress the demo left them with.
LEARNER = "employee16@example.com"
VIEWPORTS = {
    "375": {"viewport": {"width": 375, "height": 812}, "device_scale_factor": 2},
    "1280-at-200pct": {"viewport": {"width": 640, "height": 450}, "device_scale_factor": 2},
}
CONTROLS = (
    "input[type=text], input[type=search], input[type=email], input[type=password], input[type=date], select, .button"
)
MIN_CONTROL_HEIGHT = 32  # CSS px: an unstyled search box is ~20 px, too small to read or to tap at 375 px
KEY_TEXT = (
    "h1, h2, h3, label, legend, .button, button, .site-nav a, .breadcrumb, .choice span, .badge, .qtype, "
    ".figure dt, .figure dd, .score-number, .verdict, .lesson-title, .progress-label, th, .alert"
)
LAYOUT_PROBLEMS = """([selector, controls, minHeight]) => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > innerWidth)
    problems.push(`document is ${root.scrollWidth}px wide in a ${innerWidth}px window`);
  const scrollsSideways = (el) => {
    for (let box = el.parentElement; box; box = box.parentElement) {
      const x = getComputedStyle(box).overflowX;
      if ((x === "auto" || x === "scroll") && box.scrollWidth > box.clientWidth) return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll(selector)) {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden") continue;
    if (el.closest(".visually-hidden, .skip-link")) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    const name = `${el.tagName.toLowerCase()}${el.className ? "." + String(el.className).split(" ").join(".") : ""}`
                 + ` "${el.innerText.trim().slice(0, 30)}"`;
    if ((box.left < -1 || box.right > innerWidth + 1) && !scrollsSideways(el))
      problems.push(`${name} sticks out of the window (${Math.round(box.left)}..${Math.round(box.right)}px)`);
    const hides = [style.overflowX, style.overflowY].some(v => v === "hidden" || v === "clip");
    if (hides && (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1))
      problems.push(`${name} hides part of its text `
                    + `(${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight})`);
  }
  for (const el of document.querySelectorAll(controls)) {
    const box = el.getBoundingClientRect();
    if (box.height > 0 && box.height < minHeight)
      problems.push(`${el.tagName.toLowerCase()}#${el.id} is only ${Math.round(box.height)}px tall`);
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def signed_in(live_server: str, browser) -> Iterator[dict]:
    """Storage states for the three roles, and the learner's own attempt and result."""
    states: dict = {}
    paths: dict[str, str] = {}
    for role, login in (("learner", LEARNER), ("manager", "manager@example.com"), ("admin", "admin@example.com")):
        context = browser.new_context()
        page = context.new_page()
        sign_in(page, live_server, login)
        if role == "learner":
            paths["result"] = submitted_attempt(page, live_server, "kasuhara-vs-complaint")
            paths["attempt"] = start_attempt(page, live_server, "criteria-and-responses")
        states[role] = context.storage_state()
        context.close()
    yield {"states": states, "paths": paths}


PAGES = {
    "learner-home": ("learner", "/my"),
    "lesson": ("learner", "/courses/kasuhara-basics/lessons/what-is-kasuhara"),
    "test": ("learner", "{attempt}"),
    "result": ("learner", "{result}"),
    "dashboard": ("manager", "/dashboard"),
    "admin-users": ("admin", "/admin/users"),
}


@pytest.mark.parametrize("screen", VIEWPORTS)
@pytest.mark.parametrize("name", PAGES)
def test_page_reads_without_sideways_scrolling_or_clipped_text(
    live_server: str, browser, signed_in: dict, name: str, screen: str
) -> None:
    role, path = PAGES[name]
    path = path.format(**signed_in["paths"])
    context = browser.new_context(storage_state=signed_in["states"][role], **VIEWPORTS[screen])
    page = context.new_page()
    errors = console_errors(page)
    page.goto(live_server + path)
    shot(page, f"zoom-{screen}-{name}")
    problems = page.evaluate(LAYOUT_PROBLEMS, [KEY_TEXT, CONTROLS, MIN_CONTROL_HEIGHT])
    context.close()
    assert problems == [], f"{name} at {screen} ({path})"
    assert errors == []
