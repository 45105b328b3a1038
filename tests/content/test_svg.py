"""SVG sanitising: a real figure survives intact; hostile files are refused or come out harmless."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.content.svg import MAX_DEPTH, MAX_ELEMENTS, SVG_NS, SvgRefused, sanitise_svg

ROOT = Path(__file__).resolve().parents[2]
RESPONSE_FLOW = ROOT / "content" / "kasuhara-basics" / "images" / "response-flow.svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
DRAWING = {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "title", "desc", "g"}
OPEN = f'<svg xmlns="{SVG_NS}" xmlns:xlink="{XLINK_NS}" viewBox="0 0 10 10">'


def svg(body: str) -> bytes:
    return f"{OPEN}{body}</svg>".encode()


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parsed(data: bytes) -> ET.Element:
    root = ET.fromstring(data)
    assert root.tag == f"{{{SVG_NS}}}svg"
    return root


def assert_harmless(output: bytes) -> None:
    """Structurally: no active element, no handler, no link leaving the file, no script URL anywhere."""
    root = parsed(output)
    text = output.decode()
    assert "<!ENTITY" not in text
    assert "<!DOCTYPE" not in text
    assert "<?" not in text
    for element in root.iter():
        assert element.tag.startswith(f"{{{SVG_NS}}}"), element.tag
        assert local(element.tag) not in {"script", "foreignObject", "a", "animate", "set", "style", "image"}
        for key, value in element.attrib.items():
            assert not local(key).lower().startswith("on"), key
            assert "javascript:" not in re.sub(r"\s", "", value).lower()
            if local(key) == "href":
                assert value.startswith("#"), value
            assert not re.search(r"url\(\s*['\"]?(?!#)", value), value
            assert not re.search(r"(https?|file|data):", value), value


# --- legitimate figures -----------------------------------------------------------------------------------------


def test_the_response_flow_figure_keeps_every_drawing_element_and_its_text() -> None:
    original = ET.fromstring(RESPONSE_FLOW.read_bytes())

    clean = parsed(sanitise_svg(RESPONSE_FLOW.read_bytes()))

    def census(root: ET.Element) -> list[str]:
        return [local(element.tag) for element in root.iter() if local(element.tag) in DRAWING]

    def texts(root: ET.Element) -> list[str]:
        return [
            "".join(element.itertext()) for element in root.iter() if local(element.tag) in {"text", "title", "desc"}
        ]

    assert census(clean) == census(original)
    assert texts(clean) == texts(original)
    assert "カスハラ対応の流れ" in texts(clean)
    assert clean.attrib == original.attrib  # viewBox, size, role, aria-labelledby and the font all kept
    assert_harmless(sanitise_svg(RESPONSE_FLOW.read_bytes()))


def test_allowed_attributes_are_kept_exactly() -> None:
    body = (
        '<defs><linearGradient id="g" gradientUnits="userSpaceOnUse" x1="0" y1="0" x2="1" y2="1">'
        '<stop offset="0" stop-color="#fff" stop-opacity="0.5"/></linearGradient>'
        '<marker id="m" markerWidth="4" markerHeight="4" refX="2" refY="2" orient="auto"><path d="M0 0L4 2z"/></marker>'
        '<clipPath id="c"><rect width="5" height="5"/></clipPath></defs>'
        '<path d="M1 1L9 9" stroke="rgb(10, 20, 30)" stroke-width="2" marker-end="url(#m)" clip-path="url(#c)"'
        ' transform="translate(1 2) rotate(45)"/>'
        '<rect fill="url(#g)" x="1" y="1" width="8" height="8" rx="1" aria-label="枠 (外側)"/>'
        '<text xml:space="preserve" x="5" y="5" text-anchor="middle">ラベル<tspan dx="1">続き</tspan></text>'
        '<use xlink:href="#c" x="2"/>'
    )

    clean = parsed(sanitise_svg(svg(body)))

    path = clean.find(f".//{{{SVG_NS}}}path[@marker-end]")
    assert path is not None
    assert path.attrib == {
        "d": "M1 1L9 9",
        "stroke": "rgb(10, 20, 30)",
        "stroke-width": "2",
        "marker-end": "url(#m)",
        "clip-path": "url(#c)",
        "transform": "translate(1 2) rotate(45)",
    }
    rect = clean.find(f"{{{SVG_NS}}}rect")
    assert rect is not None and rect.get("fill") == "url(#g)" and rect.get("aria-label") == "枠 (外側)"
    text = clean.find(f"{{{SVG_NS}}}text")
    assert text is not None and "".join(text.itertext()) == "ラベル続き"
    assert text.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve"
    use = clean.find(f"{{{SVG_NS}}}use")
    assert use is not None and use.attrib == {"href": "#c", "x": "2"}  # xlink:href is written as SVG 2 href
    assert clean.find(f".//{{{SVG_NS}}}stop") is not None


def test_an_svg_without_namespace_comes_out_with_it() -> None:
    clean = parsed(sanitise_svg(b'<svg viewBox="0 0 1 1"><rect width="1" height="1"/></svg>'))

    assert [local(element.tag) for element in clean.iter()] == ["svg", "rect"]


def test_output_is_utf8_and_keeps_the_xml_declaration_out() -> None:
    data = '<?xml version="1.0" encoding="UTF-8"?>\n' + svg("<title>研修</title>").decode()

    output = sanitise_svg(("\ufeff" + data).encode())

    assert output.startswith(b"<svg ")
    assert "研修".encode() in output


def test_style_declarations_become_attributes_when_safe() -> None:
    body = (
        '<rect fill="blue" style="fill: #123456; stroke:red ; opacity: .5; position: fixed;'
        ' stroke-width: url(https://evil.example/x); font-family: a\\75rl(x); behavior: url(x.htc)"/>'
    )

    rect = parsed(sanitise_svg(svg(body))).find(f"{{{SVG_NS}}}rect")

    assert rect is not None
    assert rect.attrib == {"fill": "#123456", "stroke": "red", "opacity": ".5"}


def test_text_after_a_dropped_element_stays_in_its_parent() -> None:
    body = '<text x="1">前<a href="https://evil.example">リンク</a>後<tspan>続き</tspan></text>'

    text = parsed(sanitise_svg(svg(body))).find(f"{{{SVG_NS}}}text")

    assert text is not None and "".join(text.itertext()) == "前後続き"


# --- hostile files that are cleaned ------------------------------------------------------------------------------

CLEANED = {
    "script element": '<script>alert(document.cookie)</script><rect width="1" height="1"/>',
    "script in another namespace": '<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>',
    "script without namespace": '<g xmlns=""><script>alert(1)</script></g>',
    "onclick on a rect": '<rect width="1" height="1" onclick="alert(1)" onmouseover="alert(2)"/>',
    "link to javascript": '<a href="javascript:alert(1)"><rect width="1" height="1"/></a>',
    "xlink link to javascript": '<a xlink:href="javascript:alert(1)"><text>押す</text></a>',
    "use pointing at javascript": '<use xlink:href="javascript:alert(1)"/>',
    "use pointing at javascript with spaces": '<use href=" java\tscript:alert(1)"/>',
    "use pointing outside": '<use href="https://evil.example/sprite.svg#icon"/>',
    "use pointing at a local file": '<use xlink:href="file:///etc/passwd#x"/>',
    "foreignObject with HTML": (
        '<foreignObject width="10" height="10"><body xmlns="http://www.w3.org/1999/xhtml">'
        '<iframe src="javascript:alert(1)"/></body></foreignObject>'
    ),
    "animate turning href into javascript": (
        '<a><animate attributeName="href" to="javascript:alert(1)"/><text>x</text></a>'
        '<use href="#x"><animate attributeName="href" values="javascript:alert(1)"/></use>'
    ),
    "set turning href into javascript": '<use href="#x"><set attributeName="href" to="javascript:alert(1)"/></use>',
    "style element with import": '<style>@import url("https://evil.example/x.css");</style><rect width="1"/>',
    "fill from an external URL": '<rect width="1" height="1" fill="url(https://evil.example/p.svg#g)"/>',
    "fill from a quoted external URL": '<rect width="1" fill="url(\'//evil.example/p.svg#g\')"/>',
    "url spelled with a CSS escape": '<rect width="1" fill="\\75 rl(https://evil.example/x)"/>',
    "url hidden in style": '<rect width="1" style="fill: url(https://evil.example/x)"/>',
    "image with a data URL": '<image href="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+" width="9"/>',
    "image from outside": '<image xlink:href="https://evil.example/track.png" width="1" height="1"/>',
    "iframe": '<iframe src="https://evil.example"/>',
    "handler in a foreign namespace": '<rect xmlns:e="urn:x" e:onload="alert(1)" width="1"/>',
    "javascript in an allowed attribute": '<rect width="1" class="javascript:alert(1)" id="javascript:x"/>',
    "xml:base pointing outside": '<g xml:base="https://evil.example/"><use href="#x"/></g>',
}


@pytest.mark.parametrize("body", CLEANED.values(), ids=CLEANED.keys())
def test_hostile_content_is_removed(body: str) -> None:
    output = sanitise_svg(svg(body))

    assert_harmless(output)
    assert b"evil.example" not in output
    assert b"alert" not in output


def test_onload_on_the_root_is_dropped_but_the_root_stays() -> None:
    output = sanitise_svg(f'<svg xmlns="{SVG_NS}" onload="alert(1)" width="9"><rect width="1"/></svg>'.encode())

    root = parsed(output)
    assert root.attrib == {"width": "9"}
    assert [local(element.tag) for element in root] == ["rect"]
    assert_harmless(output)


# --- hostile files that are refused -----------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE svg [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&lol3;</text></svg>"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<svg xmlns="http://www.w3.org/2000/svg"><text>&xxe;</text></svg>"""
PUBLIC_DOCTYPE = (
    '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'
    f'<svg xmlns="{SVG_NS}"/>'
)

REFUSED = {
    "billion laughs": (BILLION_LAUGHS, "<!DOCTYPE> や <!ENTITY> は使えません"),
    "XXE": (XXE, "<!DOCTYPE> や <!ENTITY> は使えません"),
    "plain DOCTYPE": (PUBLIC_DOCTYPE, "DOCTYPE を付けずに書き出してください"),
    "stylesheet PI": (
        f'<?xml version="1.0"?><?xml-stylesheet href="https://evil.example/x.css"?><svg xmlns="{SVG_NS}"/>',
        "処理命令 <?xml-stylesheet …?> は使えません",
    ),
    "PI inside": (f'<svg xmlns="{SVG_NS}"><?php echo 1; ?></svg>', "処理命令 <?php …?> は使えません"),
    "HTML root": ('<html xmlns="http://www.w3.org/1999/xhtml"><script>1</script></html>', "<html> でした"),
    "svg in another namespace": ('<svg xmlns="urn:evil"/>', 'xmlns="http://www.w3.org/2000/svg" にしてください'),
    "not closed": (f'<svg xmlns="{SVG_NS}"><g></svg>', "XML として読めません(1 行"),
    "undefined entity": (f'<svg xmlns="{SVG_NS}"><text>&nbsp;</text></svg>', "XML として読めません"),
    "not XML at all": ("just text", "XML として読めません"),
    "empty": ("", "XML として読めません"),
}


@pytest.mark.parametrize(("source", "message"), REFUSED.values(), ids=REFUSED.keys())
def test_hostile_or_broken_files_are_refused(source: str, message: str) -> None:
    with pytest.raises(SvgRefused) as caught:
        sanitise_svg(source.encode())

    assert message in str(caught.value)


def test_a_file_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(SvgRefused, match="UTF-8 として読めません"):
        sanitise_svg(svg("<title>図</title>").decode().encode("cp932"))


def test_nesting_up_to_the_limit_is_fine_and_deeper_is_refused() -> None:
    def nested(depth: int) -> bytes:
        return svg("<g>" * (depth - 1) + "</g>" * (depth - 1))

    assert len(list(parsed(sanitise_svg(nested(MAX_DEPTH))).iter())) == MAX_DEPTH
    with pytest.raises(SvgRefused, match=f"入れ子が深すぎます\\({MAX_DEPTH} 段まで\\)"):
        sanitise_svg(nested(MAX_DEPTH + 1))


def test_a_very_deep_file_is_stopped_before_it_is_all_read() -> None:
    with pytest.raises(SvgRefused, match="入れ子が深すぎます"):
        sanitise_svg(svg("<g>" * 200_000))  # never closed: only an early stop explains this message


def test_too_many_elements_are_refused() -> None:
    assert sanitise_svg(svg('<rect width="1"/>' * (MAX_ELEMENTS - 1)))
    with pytest.raises(SvgRefused, match="要素が多すぎます"):
        sanitise_svg(svg('<rect width="1"/>' * MAX_ELEMENTS))
