"""Markdown → safe HTML, done once at import: markdown-it-py renders, nh3 sanitises with an allow-list."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.admon import admon_plugin
from mdit_py_plugins.anchors import anchors_plugin

ADMONITION_TITLES = {"point": "ポイント", "caution": "注意", "case": "事例"}

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "code",
    "dd",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "loading"},
    "div": {"class"},
    "p": {"class"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
VARIABLE_PATTERN = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
ADMONITION_PATTERN = re.compile(r"^(?:!!!|\?\?\?\+?)\s+([A-Za-z-]+)", re.MULTILINE)
IMAGE_PATTERN = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass
class Rendered:
    html: str
    toc: list[dict[str, str | int]] = field(default_factory=list)


def _new_parser() -> MarkdownIt:
    # html=False: an author's raw HTML is shown as text, never passed through.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table").enable("strikethrough")
    md.use(admon_plugin).use(anchors_plugin, min_level=2, max_level=3)
    return md


_PARSER = _new_parser()


def substitute_variables(text: str, variables: dict[str, str]) -> str:
    return VARIABLE_PATTERN.sub(lambda m: variables.get(m.group(1), m.group(0)), text)


def unknown_variables(text: str, variables: dict[str, str]) -> list[str]:
    return sorted({name for name in VARIABLE_PATTERN.findall(text) if name not in variables})


def admonition_types(text: str) -> list[str]:
    return ADMONITION_PATTERN.findall(text)


def image_references(text: str) -> list[tuple[str, str]]:
    """(alt, src) for every Markdown image."""
    return IMAGE_PATTERN.findall(text)


def local_links(text: str) -> list[str]:
    """Link targets that point into the pack (not a URL, not an anchor on the page)."""
    hrefs: list[str] = []
    for token in _PARSER.parse(text):
        for child in token.children or []:
            if child.type == "link_open":
                href = str(child.attrs.get("href", ""))
                if href and not SCHEME.match(href) and not href.startswith("#"):
                    hrefs.append(href)
    return hrefs


def _localise_admonitions(tokens: list[Token]) -> None:
    """Give point/caution/case boxes their Japanese title unless the author wrote one."""
    for index, token in enumerate(tokens):
        if token.type != "admonition_open":
            continue
        kind = str(token.meta.get("tag", ""))
        title = tokens[index + 2] if index + 2 < len(tokens) else None
        if title is None or title.type != "inline" or title.content != kind.title():
            continue
        japanese = ADMONITION_TITLES.get(kind, kind)
        title.content = japanese
        if title.children:
            title.children[0].content = japanese


def _table_of_contents(tokens: list[Token]) -> list[dict[str, str | int]]:
    toc: list[dict[str, str | int]] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag in ("h2", "h3"):
            title = tokens[index + 1].content
            toc.append({"level": int(token.tag[1]), "id": str(token.attrs.get("id", "")), "title": title})
    return toc


def sanitise(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render(text: str, *, resolve_image: Callable[[str], str] | None = None) -> Rendered:
    """Render a lesson body (front matter already removed) to sanitised HTML and its table of contents.

    `resolve_image` turns a path inside the pack (an image, or a handout a link points to) into its URL."""
    tokens = _PARSER.parse(text)
    _localise_admonitions(tokens)
    for token in tokens:
        for child in token.children or []:
            if child.type == "image":
                src = str(child.attrs.get("src", ""))
                if resolve_image and not SCHEME.match(src):
                    child.attrs["src"] = resolve_image(src)
                child.attrs["loading"] = "lazy"
            elif child.type == "link_open" and resolve_image:
                href = str(child.attrs.get("href", ""))
                if href and not SCHEME.match(href) and not href.startswith("#"):
                    child.attrs["href"] = resolve_image(href)
    html = _PARSER.renderer.render(tokens, _PARSER.options, {})
    return Rendered(html=sanitise(html), toc=_table_of_contents(tokens))


def render_inline_block(text: str) -> str:
    """Short Markdown fields of questions (prompt, scene, explanation)."""
    return render(text).html
