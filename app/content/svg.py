"""Making an SVG from a course pack safe to serve: rebuilt from an allow-list, or refused with a reason in Japanese.

Nothing of the original is copied through unchecked: a new tree is built from the allowed elements and attributes
only, so whatever the list does not name (script, event handlers, external links, animation, foreignObject,
style sheets) cannot reach a browser. ``style="…"`` attributes are not kept as CSS: each declaration whose
property is an allowed presentation attribute and whose value passes the same checks becomes that attribute,
the rest is dropped. ``xlink:href`` is written as plain ``href`` (SVG 2), so the output needs one namespace only.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
MAX_ELEMENTS = 20_000
MAX_DEPTH = 50

ELEMENTS = frozenset(
    {
        "svg",
        "g",
        "defs",
        "symbol",
        "use",
        "title",
        "desc",
        "path",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "text",
        "tspan",
        "textPath",
        "marker",
        "linearGradient",
        "radialGradient",
        "stop",
        "clipPath",
        "mask",
        "pattern",
    }
)
# CSS properties that SVG also accepts as attributes: the only ones a style="…" declaration may turn into.
PRESENTATION = frozenset(
    {
        "fill",
        "fill-opacity",
        "fill-rule",
        "stroke",
        "stroke-width",
        "stroke-linecap",
        "stroke-linejoin",
        "stroke-dasharray",
        "stroke-dashoffset",
        "stroke-miterlimit",
        "stroke-opacity",
        "opacity",
        "font-size",
        "font-family",
        "font-weight",
        "font-style",
        "text-anchor",
        "dominant-baseline",
        "stop-color",
        "stop-opacity",
        "marker-start",
        "marker-mid",
        "marker-end",
        "clip-path",
        "clip-rule",
        "mask",
        "letter-spacing",
        "visibility",
        "display",
        "vector-effect",
    }
)
ATTRIBUTES = PRESENTATION | frozenset(
    {
        "id",
        "class",
        "viewBox",
        "width",
        "height",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "r",
        "rx",
        "ry",
        "fx",
        "fy",
        "d",
        "points",
        "transform",
        "offset",
        "markerWidth",
        "markerHeight",
        "refX",
        "refY",
        "orient",
        "markerUnits",
        "preserveAspectRatio",
        "gradientUnits",
        "gradientTransform",
        "spreadMethod",
        "patternUnits",
        "patternContentUnits",
        "patternTransform",
        "clipPathUnits",
        "maskUnits",
        "maskContentUnits",
        "role",
        "aria-label",
        "aria-labelledby",
        "aria-describedby",
        "aria-hidden",
        "dx",
        "dy",
        "lang",
        "version",
        "startOffset",
        "textLength",
        "lengthAdjust",
    }
)
XML_ATTRIBUTES = frozenset({"space", "lang"})
# Attributes holding names or prose, not CSS: a "(" in an aria-label is just punctuation.
WORDS = frozenset({"id", "class", "role", "aria-label", "aria-labelledby", "aria-describedby", "lang"})
# Functions a legitimate value uses (colours, transforms); any other, e.g. url(https://…) or image-set(), is dropped.
FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla", "matrix", "translate", "scale", "rotate", "skewx", "skewy"})

DOCTYPE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
FRAGMENT = re.compile(r"#[A-Za-z_][\w.:-]*")
LOCAL_URL = re.compile(r"url\(\s*(['\"]?)#[A-Za-z_][\w.:-]*\1\s*\)", re.IGNORECASE)
URL = re.compile(r"url\s*\(", re.IGNORECASE)
FUNCTION = re.compile(r"([A-Za-z_-]*)\s*\(")
SCHEME = re.compile(r"(javascript|vbscript|data):", re.IGNORECASE)
WHITESPACE = re.compile(r"[\s\x00-\x1f]+")


class SvgRefused(ValueError):
    """The SVG cannot be made safe; str(error) tells the pack author why, in Japanese."""


def sanitise_svg(data: bytes) -> bytes:
    """An SVG rebuilt from allowed elements and attributes only; SvgRefused when it cannot be made safe."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SvgRefused(f"UTF-8 として読めません({error.start} バイト目)。UTF-8 で保存し直してください") from None
    if DOCTYPE.search(text):
        raise SvgRefused(
            "<!DOCTYPE> や <!ENTITY> は使えません(外部ファイルの読み込みや展開攻撃に使われるため)。"
            "DOCTYPE を付けずに書き出してください"
        )
    root = _parse(text)
    local = root.tag.rsplit("}", 1)[-1]
    if local == "svg" and _svg_name(root.tag) is None:
        raise SvgRefused(f'<svg> の名前空間が違います。xmlns="{SVG_NS}" にしてください')
    if local != "svg":
        raise SvgRefused(f"一番外側の要素が <svg> ではありません(<{local}> でした)。SVG 画像として保存し直してください")
    clean = _rebuild(root)
    assert clean is not None  # the root is <svg>, which is always kept
    # Tags are built unqualified and the root declares the default namespace itself: ElementTree's
    # default_namespace option rejects unqualified attributes, and register_namespace() is process-wide.
    clean.attrib = {"xmlns": SVG_NS, **clean.attrib}
    return ET.tostring(clean, encoding="unicode").encode("utf-8")


def _parse(text: str) -> ET.Element:
    # A pull parser lets the size limits stop a hostile file part-way, before the whole tree is in memory.
    parser = ET.XMLPullParser(events=("start", "end", "pi"))
    root: ET.Element | None = None
    depth = count = 0
    try:
        for start in range(0, max(len(text), 1), 65_536):
            parser.feed(text[start : start + 65_536])
            for event, element in parser.read_events():
                if event == "pi":
                    target = (element.text or "").split(" ", 1)[0]
                    raise SvgRefused(f"処理命令 <?{target} …?> は使えません。ファイルから削除してください")
                if event == "end":
                    depth -= 1
                    continue
                root = element if root is None else root
                depth += 1
                count += 1
                if depth > MAX_DEPTH:
                    raise SvgRefused(
                        f"要素の入れ子が深すぎます({MAX_DEPTH} 段まで)。グループ <g> の入れ子を減らしてください"
                    )
                if count > MAX_ELEMENTS:
                    raise SvgRefused(f"要素が多すぎます({MAX_ELEMENTS:,} 個まで)。図を簡単にするか PNG にしてください")
        parser.close()
    except ET.ParseError as error:
        line, column = error.position
        raise SvgRefused(
            f"XML として読めません({line} 行 {column + 1} 列目)。タグの閉じ忘れや & の書き方を確認してください"
        ) from None
    assert root is not None  # close() raises ParseError for a document without an element
    return root


def _svg_name(tag: str) -> str | None:
    """The local name of an element in the SVG namespace (or in none, which authors forget); None otherwise."""
    if tag.startswith(f"{{{SVG_NS}}}"):
        return tag[len(SVG_NS) + 2 :]
    return None if tag.startswith("{") else tag


def _rebuild(source: ET.Element) -> ET.Element | None:
    name = _svg_name(source.tag)
    if name not in ELEMENTS:
        return None
    clean = ET.Element(name, _attributes(source))
    clean.text = source.text
    last: ET.Element | None = None
    for child in source:
        kept = _rebuild(child)
        if kept is not None:
            kept.tail = child.tail
            clean.append(kept)
            last = kept
        elif child.tail:
            # The text after a dropped element still belongs to its parent, e.g. the rest of a <text> line.
            if last is None:
                clean.text = (clean.text or "") + child.tail
            else:
                last.tail = (last.tail or "") + child.tail
    return clean


def _attributes(source: ET.Element) -> dict[str, str]:
    kept: dict[str, str] = {}
    href: str | None = None
    for key, value in source.attrib.items():
        if key in ("href", f"{{{XLINK_NS}}}href"):
            # Only a link inside the same file: anything else could load or run something from elsewhere.
            if FRAGMENT.fullmatch(value.strip()) and (href is None or key == "href"):
                href = value.strip()
        elif key.startswith(f"{{{XML_NS}}}"):
            if key[len(XML_NS) + 2 :] in XML_ATTRIBUTES and _safe_value(value, css=False):
                kept[key] = value
        elif key in ATTRIBUTES and _safe_value(value, css=key not in WORDS):
            kept[key] = value
    if "style" in source.attrib:
        # CSS wins over attributes in a browser, so the declarations overwrite what the loop kept before them.
        kept.update(_style_declarations(source.attrib["style"]))
    if href is not None:
        kept["href"] = href
    return kept


def _style_declarations(style: str) -> dict[str, str]:
    declarations: dict[str, str] = {}
    for declaration in style.split(";"):
        prop, _, value = declaration.partition(":")
        prop, value = prop.strip().lower(), value.strip()
        if prop in PRESENTATION and value and _safe_value(value, css=True):
            declarations[prop] = value
    return declarations


def _safe_value(value: str, *, css: bool) -> bool:
    if SCHEME.search(WHITESPACE.sub("", value)):
        return False
    if LOCAL_URL.fullmatch(value.strip()):
        return True
    if not css:
        return URL.search(value) is None
    # Browsers parse these values as CSS, where a backslash escape could spell url( in disguise.
    return "\\" not in value and all(match.group(1).lower() in FUNCTIONS for match in FUNCTION.finditer(value))
