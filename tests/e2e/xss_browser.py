"""Watching a browser for XSS: the markers the corpus calls, dialogs, server errors, CSP reports, and a DOM check
that is stronger than looking for strings — no element the app did not write may carry script."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.e2e.support import PASSWORD, sign_in
from tests.e2e.xss_payloads import EVALUATED

# Runs in every frame before the page's own scripts: a payload that executes reports itself by id.
INIT_SCRIPT = """
window.__xss = (id) => { try { window.__xssHit(String(id)); } catch (e) {} };
document.addEventListener("securitypolicyviolation", (event) => {
  try { window.__cspHit(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`); }
  catch (e) {}
});
"""

# Every problem the DOM shows, as text. The app's own markup has no event handler attribute, no inline script
# (the CSP forbids both), no javascript:/data: URL, and htmx attributes only of the kinds its templates use,
# never inside rendered Markdown (`[hx-disable]`), never aimed at /logout or triggered on load. A template probe
# left alone keeps its closing brace right before its label (`{{7*7}}ssti-jinja`, `%7D%7Dssti-jinja` in a URL):
# anything else there means a template evaluated it.
INERT_CHECK = """(evaluated) => {
  const problems = [];
  const say = (el, what) => problems.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} ${what}`);
  const cut = (text) => text.slice(0, 80);
  const scheme = (value) => value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
  const URL_ATTRIBUTES = ["href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
                          "srcset", "codebase", "cite", "ping", "lowsrc", "dynsrc", "to", "values", "from", "by"];
  const OWN_HTMX = ["hx-get", "hx-post", "hx-trigger", "hx-target", "hx-swap", "hx-push-url", "hx-disable"];
  const FORBIDDEN = ["iframe", "frame", "frameset", "object", "embed", "applet", "base", "style", "template",
                     "noscript", "math", "isindex", "marquee", "xss", "x:script", "animate", "set", "foreignobject"];
  const FORBIDDEN_IN_CONTENT = ["svg", "form", "input", "button", "textarea", "select", "video", "audio", "source",
                                "details"];
  const ownStatic = (value) => {
    const url = new URL(value, location.href);
    return url.origin === location.origin && url.pathname.startsWith("/static/");
  };
  for (const el of document.querySelectorAll("*")) {
    const tag = el.tagName.toLowerCase();
    // Inside rendered Markdown: below an element marked hx-disable (the container itself is the app's).
    const inContent = el.parentElement !== null && el.parentElement.closest("[hx-disable]") !== null;
    for (const {name, value} of Array.from(el.attributes)) {
      const attr = name.toLowerCase();
      if (attr.startsWith("on")) say(el, `has ${attr}="${cut(value)}"`);
      if (attr === "srcdoc" || attr === "http-equiv") say(el, `has ${attr}`);
      if (URL_ATTRIBUTES.includes(attr) && /^(javascript|vbscript|data|livescript):/.test(scheme(value))) {
        say(el, `${attr}="${cut(value)}"`);
      }
      if (attr === "style" && /url\\(|expression|javascript|behavior|@import/i.test(value)) {
        say(el, `style="${cut(value)}"`);
      }
      if (attr.startsWith("hx-") || attr.startsWith("data-hx-")) {
        if (attr === "hx-disable" && !inContent) continue;
        const trigger = el.getAttribute("hx-trigger") || "";
        const request = ["hx-get", "hx-post"].includes(attr) ? new URL(value, location.href) : null;
        const aimed = request !== null && (request.origin !== location.origin || request.pathname === "/logout");
        if (inContent || !OWN_HTMX.includes(attr) || /load|revealed|intersect/.test(trigger) || aimed) {
          say(el, `has ${attr}="${cut(value)}"`);
        }
      }
    }
    if (tag === "script" && !(el.getAttribute("src") && ownStatic(el.getAttribute("src")))) {
      say(el, cut(el.getAttribute("src") || el.textContent));
    }
    if (tag === "link" && !ownStatic(el.getAttribute("href") || "")) say(el, cut(el.outerHTML));
    if (tag === "meta" && el.closest("body")) say(el, `in body ${cut(el.outerHTML)}`);
    if (FORBIDDEN.includes(tag)) say(el, cut(el.outerHTML));
    if (inContent && FORBIDDEN_IN_CONTENT.includes(tag)) say(el, `in content ${cut(el.outerHTML)}`);
    if (["a", "area"].includes(tag) && el.getAttribute("href") !== null
        && ["javascript:", "vbscript:", "data:"].includes(el.protocol)) say(el, `resolves to ${el.protocol}`);
  }
  const html = document.documentElement.outerHTML;
  for (const text of evaluated.filter((text) => html.includes(text))) problems.push(`evaluated probe ${text}`);
  for (const match of html.matchAll(/(?<!}|%7D|%7d|&#125;)ssti-[a-z-]+/g)) problems.push(`evaluated probe ${match[0]}`);
  return {problems, hasMain: document.querySelector("main") !== null};
}"""


@dataclass
class Watch:
    """Everything suspicious one browser context saw, with where; empty at the end of a clean test."""

    hits: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    pages_checked: int = 0
    fail_fast: bool = True  # stop at the first page with a finding: later steps only fail on what a payload broke

    def attach(self, context: Any) -> None:
        context.expose_binding(
            "__xssHit", lambda source, payload_id: self.hits.append(f"{payload_id} on {source['frame'].url[:120]}")
        )
        context.expose_binding(
            "__cspHit", lambda source, report: self.csp.append(f"{report} on {source['frame'].url[:120]}")
        )
        context.add_init_script(INIT_SCRIPT)
        context.on("dialog", self._dialog)
        context.on("response", self._response)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)[:200]))
        context.on("console", self._console)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}({dialog.message!r})")
        dialog.dismiss()

    def _response(self, response: Any) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url[:200]}")

    def _console(self, message: Any) -> None:
        if message.type == "error" and ("Content Security Policy" in message.text or "Refused to" in message.text):
            self.csp.append(message.text[:200])

    def inspect(self, page: Any, where: str, *, full_page: bool = True) -> None:
        """Run the DOM check on what the page shows now; `where` says which step in the failure report."""
        page.wait_for_load_state("load")
        result = page.evaluate(INERT_CHECK, EVALUATED)
        self.pages_checked += 1
        self.problems += [f"{where}: {problem}" for problem in result["problems"]]
        if full_page and not result["hasMain"]:
            self.problems.append(f"{where}: the page did not render (no <main>)")
        if self.fail_fast:
            assert not self.report(), f"after {where}:\n{self.report()}"

    def visit(self, page: Any, url: str, *, where: str | None = None, full_page: bool = True) -> int:
        """Open `url`, check it, and return the status of the response."""
        response = page.goto(url)
        self.inspect(page, where or url[:160], full_page=full_page)
        return response.status if response else 0

    def post(self, page: Any, action: str, fields: list[tuple[str, str]], *, where: str) -> None:
        """Submit a same-origin form built in the page (as a browser would, Sec-Fetch-Site: same-origin) and check
        the page that comes back."""
        with page.expect_navigation():
            page.evaluate(
                """([action, fields]) => {
                  const form = document.createElement("form");
                  form.method = "post";
                  form.action = action;
                  for (const [key, value] of fields) {
                    const input = document.createElement("input");
                    input.type = "hidden"; input.name = key; input.value = value;
                    form.append(input);
                  }
                  document.body.append(form);
                  form.submit();
                }""",
                [action, fields],
            )
        self.inspect(page, where)

    def report(self) -> str:
        parts = {
            "markers": self.hits,
            "dialogs": self.dialogs,
            "5xx": self.server_errors,
            "CSP": self.csp,
            "page errors": self.page_errors,
            "DOM": self.problems,
        }
        return "\n".join(f"{kind}: {item}" for kind, items in parts.items() for item in items)

    def assert_clean(self) -> None:
        assert self.pages_checked, "no page was checked"
        assert not self.report(), self.report()


@dataclass
class Session:
    """One browser context (signed in, or a visitor), its page and its watch."""

    context: Any
    page: Any
    watch: Watch
    base: str

    def visit(self, path: str, *, where: str | None = None, full_page: bool = True) -> int:
        return self.watch.visit(self.page, self.base + path, where=where, full_page=full_page)

    def post(self, path: str, fields: list[tuple[str, str]], *, where: str) -> None:
        self.watch.post(self.page, self.base + path, fields, where=where)

    def submit(self, control: Any, *, where: str) -> None:
        """Click what submits a form (or follows a link), wait for the page it leads to and check it."""
        with self.page.expect_navigation():
            control.click()
        self.watch.inspect(self.page, where)


def open_session(
    browser: Any, base: str, login: str | None = None, *, password: str = PASSWORD, bypass_csp: bool = True
) -> Session:
    context = browser.new_context(bypass_csp=bypass_csp, viewport={"width": 1280, "height": 900})
    watch = Watch()
    watch.attach(context)
    page = context.new_page()
    if login:
        sign_in(page, base, login, password=password)
    return Session(context, page, watch, base)
