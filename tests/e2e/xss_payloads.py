"""The XSS corpus that tests/e2e/test_xss.py pushes through every place text enters the app.

Every payload that would run script calls a marker naming itself — `window.__xss('<id>')`, or `alert('<id>')`,
`confirm`, `prompt` for the dialog route — so a hit in the browser says exactly which payload got through. The
template-injection probes cannot call anything: each carries a text that appears only if a template evaluated it
(`EVALUATED`). The list is grouped by technique; an entry's id is unique and safe inside a JavaScript string.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass


@dataclass(frozen=True)
class Payload:
    id: str
    category: str
    text: str


def _m(payload_id: str) -> str:
    return f"window.__xss('{payload_id}')"


def _b64(html: str) -> str:
    return base64.b64encode(html.encode()).decode()


_DATA_HTML = "<script>alert('%s')</script>"
_ENTITIES_JS = "".join(f"&#{ord(char)};" for char in "javascript:")

PAYLOADS: list[Payload] = [
    # --- script elements -------------------------------------------------------------------------------------
    Payload("script-plain", "script", f"<script>{_m('script-plain')}</script>"),
    Payload("script-upper", "script", f"<SCRIPT>{_m('script-upper')}</SCRIPT>"),
    Payload("script-src-data", "script", f'<script src="data:text/javascript,{_m("script-src-data")}"></script>'),
    Payload("script-nested", "script", f"<scr<script>ipt>{_m('script-nested')}</scr</script>ipt>"),
    Payload("script-module", "script", f'<script type="module">{_m("script-module")}</script>'),
    Payload("title-breakout", "script", f"</title><script>{_m('title-breakout')}</script>"),
    Payload("textarea-breakout", "script", f"</textarea><script>{_m('textarea-breakout')}</script>"),
    Payload("script-close-js", "script", f"</script><script>{_m('script-close-js')}</script>"),
    Payload("alert-script", "script", "<script>alert('alert-script')</script>"),
    # --- event handlers --------------------------------------------------------------------------------------
    Payload("img-onerror", "event", f"<img src=x onerror={_m('img-onerror')}>"),
    Payload("img-onerror-quoted", "event", f'<img src="x" onerror="{_m("img-onerror-quoted")}">'),
    Payload("img-mixed-case", "event", f"<IMG SRC=x OnErRoR={_m('img-mixed-case')}>"),
    Payload("img-slashes", "event", f"<img/src=x/onerror={_m('img-slashes')}>"),
    Payload("img-unclosed", "event", f"<img src=x onerror={_m('img-unclosed')} "),
    Payload("svg-onload", "event", f"<svg onload={_m('svg-onload')}>"),
    Payload("svg-slash-onload", "event", f"<svg/onload={_m('svg-slash-onload')}>"),
    Payload("svg-unclosed", "event", f"<svg onload={_m('svg-unclosed')} "),
    Payload("body-onload", "event", f"<body onload={_m('body-onload')}>"),
    Payload(
        "details-ontoggle", "event", f"<details open ontoggle={_m('details-ontoggle')}><summary>x</summary></details>"
    ),
    Payload("input-autofocus", "event", f"<input autofocus onfocus={_m('input-autofocus')}>"),
    Payload("custom-tag-focus", "event", f"<xss id=xss tabindex=1 autofocus onfocus={_m('custom-tag-focus')}></xss>"),
    Payload("video-source", "event", f"<video><source onerror={_m('video-source')}></video>"),
    Payload("audio-onerror", "event", f"<audio src=x onerror={_m('audio-onerror')}>"),
    Payload("marquee-onstart", "event", f"<marquee onstart={_m('marquee-onstart')}>x</marquee>"),
    Payload("isindex", "event", f"<isindex type=image src=1 onerror={_m('isindex')}>"),
    Payload("alert-onerror", "event", "<img src=x onerror=alert('alert-onerror')>"),
    Payload("confirm-svg", "event", "<svg onload=confirm('confirm-svg')>"),
    Payload("prompt-details", "event", "<details open ontoggle=prompt('prompt-details')>"),
    # --- javascript:, data:, vbscript: URLs, plain and obfuscated --------------------------------------------
    Payload("a-javascript", "url", f'<a href="javascript:{_m("a-javascript")}">a-javascript</a>'),
    Payload("a-mixed-case", "url", f'<a href="JaVaScRiPt:{_m("a-mixed-case")}">a-mixed-case</a>'),
    Payload("a-tab-entity", "url", f'<a href="jav&#x09;ascript:{_m("a-tab-entity")}">a-tab-entity</a>'),
    Payload("a-newline-entity", "url", f'<a href="java&#10;script:{_m("a-newline-entity")}">x</a>'),
    Payload("a-decimal-entities", "url", f'<a href="{_ENTITIES_JS}{_m("a-decimal-entities")}">x</a>'),
    Payload("a-leading-ctrl", "url", f'<a href=" &#14; javascript:{_m("a-leading-ctrl")}">x</a>'),
    Payload(
        "a-data-html", "url", f'<a href="data:text/html;base64,{_b64(_DATA_HTML % "a-data-html")}">a-data-html</a>'
    ),
    Payload("a-vbscript", "url", "<a href=\"vbscript:msgbox('a-vbscript')\">a-vbscript</a>"),
    Payload("iframe-javascript", "url", f'<iframe src="javascript:parent.{_m("iframe-javascript")}"></iframe>'),
    Payload("iframe-srcdoc", "url", f'<iframe srcdoc="<script>parent.{_m("iframe-srcdoc")}</script>"></iframe>'),
    Payload(
        "iframe-srcdoc-entities",
        "url",
        f'<iframe srcdoc="&lt;img src=x onerror=parent.{_m("iframe-srcdoc-entities")}&gt;"></iframe>',
    ),
    Payload("object-data", "url", f'<object data="javascript:{_m("object-data")}"></object>'),
    Payload("embed-src", "url", f'<embed src="javascript:{_m("embed-src")}">'),
    Payload("meta-refresh", "url", f'<meta http-equiv="refresh" content="0;url=javascript:{_m("meta-refresh")}">'),
    Payload("base-href", "url", f'<base href="javascript:{_m("base-href")}//">'),
    Payload("form-action", "url", f'<form action="javascript:{_m("form-action")}"><button>form-action</button></form>'),
    Payload("button-formaction", "url", f'<button formaction="javascript:{_m("button-formaction")}">x</button>'),
    Payload("bare-javascript-url", "url", f"javascript:{_m('bare-javascript-url')}"),
    Payload("bare-javascript-alert", "url", "javascript:alert('bare-javascript-alert')//"),
    # --- SVG and MathML --------------------------------------------------------------------------------------
    Payload("svg-script", "svg", f"<svg><script>{_m('svg-script')}</script></svg>"),
    Payload(
        "svg-xlink",
        "svg",
        f'<svg><a xlink:href="javascript:{_m("svg-xlink")}"><text x="20" y="20">svg-xlink</text></a></svg>',
    ),
    Payload("svg-animate-onbegin", "svg", f"<svg><animate onbegin={_m('svg-animate-onbegin')} attributeName=x dur=1s>"),
    Payload(
        "svg-animate-href",
        "svg",
        f"<svg><a><animate attributeName=href values=javascript:{_m('svg-animate-href')} />"
        "<text x=20 y=20>svg-animate-href</text></a></svg>",
    ),
    Payload("svg-set", "svg", f"<svg><set attributeName=onmouseover to={_m('svg-set')} /></svg>"),
    Payload("svg-foreignobject", "svg", f"<svg><foreignObject><img src=x onerror={_m('svg-foreignobject')}>"),
    Payload("math-mxss", "svg", f"<math><mtext><table><mglyph><style><img src=x onerror={_m('math-mxss')}>"),
    Payload("math-href", "svg", f'<math><mi xlink:href="javascript:{_m("math-href")}">math-href</mi></math>'),
    Payload("noscript-mxss", "svg", f'<noscript><p title="</noscript><img src=x onerror={_m("noscript-mxss")}>">'),
    Payload(
        "form-math-mxss",
        "svg",
        f"<form><math><mtext></form><form><mglyph><style></math><img src=x onerror={_m('form-math-mxss')}>",
    ),
    Payload("xmlns-script", "svg", f'<x:script xmlns:x="http://www.w3.org/1999/xhtml">{_m("xmlns-script")}</x:script>'),
    # --- Markdown links, images and raw HTML -----------------------------------------------------------------
    Payload("md-link", "markdown", f"[md-link](javascript:{_m('md-link')})"),
    Payload("md-link-angle", "markdown", f"[md-link-angle](<javascript:{_m('md-link-angle')}>)"),
    Payload("md-link-case", "markdown", f"[md-link-case](JAVASCRIPT:{_m('md-link-case')})"),
    Payload("md-link-entity", "markdown", f"[md-link-entity](jav&#x61;script:{_m('md-link-entity')})"),
    Payload("md-link-data", "markdown", f"[md-link-data](data:text/html;base64,{_b64(_DATA_HTML % 'md-link-data')})"),
    Payload("md-link-vbscript", "markdown", "[md-link-vbscript](vbscript:msgbox('md-link-vbscript'))"),
    Payload(
        "md-link-title",
        "markdown",
        f'[md-link-title](https://example.com "x\\" onmouseover={_m("md-link-title")} y=\\"")',
    ),
    Payload("md-image", "markdown", f"![md-image](javascript:{_m('md-image')})"),
    Payload("md-image-onerror", "markdown", f'![x" onerror="{_m("md-image-onerror")}](images/missing.png)'),
    Payload("md-reference", "markdown", f"[md-reference][xss-ref]\n\n[xss-ref]: javascript:{_m('md-reference')}"),
    Payload("md-autolink", "markdown", f"<javascript:{_m('md-autolink')}>"),
    Payload("md-code-span", "markdown", f"`<img src=x onerror={_m('md-code-span')}>`"),
    Payload("md-html-block", "markdown", f"<div>\n<img src=x onerror={_m('md-html-block')}>\n</div>\n\nmd-html-block"),
    Payload("md-heading", "markdown", f"## <img src=x onerror={_m('md-heading')}> md-heading"),
    Payload(
        "md-table",
        "markdown",
        f"| md-table <img src=x onerror={_m('md-table')}> |\n|---|\n| <svg onload={_m('md-table')}> |",
    ),
    Payload(
        "md-admonition",
        "markdown",
        f'!!! point "<img src=x onerror={_m("md-admonition")}>"\n    md-admonition <b onclick={_m("md-admonition")}>',
    ),
    Payload("md-link-text-html", "markdown", f"[<img src=x onerror={_m('md-link-text-html')}>](https://example.com)"),
    # --- entities and Unicode tricks -------------------------------------------------------------------------
    Payload("fullwidth-script", "unicode", f"＜script＞{_m('fullwidth-script')}＜/script＞"),
    Payload("line-separators", "unicode", f"\u2028<img src=x onerror={_m('line-separators')}>\u2029"),
    Payload("rtl-override", "unicode", f"\u202e<img src=x onerror={_m('rtl-override')}>\u202c"),
    Payload("bom-script", "unicode", f"\ufeff<script>{_m('bom-script')}</script>"),
    Payload("null-in-attribute", "unicode", f"<img src=x one\x00rror={_m('null-in-attribute')}>"),
    Payload("null-in-tag", "unicode", f"<scr\x00ipt>{_m('null-in-tag')}</scr\x00ipt>"),
    Payload("double-encoded", "unicode", f"&lt;img src=x onerror={_m('double-encoded')}&gt;"),
    Payload(
        "double-encoded-amp", "unicode", f"&amp;lt;script&amp;gt;{_m('double-encoded-amp')}&amp;lt;/script&amp;gt;"
    ),
    Payload("percent-encoded", "unicode", f"%3Cscript%3E{_m('percent-encoded')}%3C/script%3E"),
    Payload("utf7", "unicode", f"+ADw-script+AD4-{_m('utf7')}+ADw-/script+AD4-"),
    # --- attribute and string breakouts ----------------------------------------------------------------------
    Payload("attr-double", "attribute", f'" autofocus onfocus={_m("attr-double")} x="'),
    Payload("attr-single", "attribute", f"' autofocus onfocus={_m('attr-single')} x='"),
    Payload("attr-double-close", "attribute", f'"><img src=x onerror={_m("attr-double-close")}>'),
    Payload("attr-single-close", "attribute", f"'><script>{_m('attr-single-close')}</script>"),
    Payload("attr-backtick", "attribute", f"`><img src=x onerror={_m('attr-backtick')}>"),
    Payload("attr-hover", "attribute", f'" onmouseover="{_m("attr-hover")}'),
    Payload("attr-unquoted", "attribute", f"x onmouseover={_m('attr-unquoted')}"),
    Payload("js-string-single", "attribute", f"';{_m('js-string-single')};//"),
    Payload("js-string-double", "attribute", f'";{_m("js-string-double")};//'),
    Payload("comment-breakout", "attribute", f"--><img src=x onerror={_m('comment-breakout')}><!--"),
    Payload("cdata-breakout", "attribute", f"<![CDATA[><img src=x onerror={_m('cdata-breakout')}>]]>"),
    Payload("template-element", "attribute", f"<template><img src=x onerror={_m('template-element')}></template>"),
    # --- template-injection probes (see EVALUATED) -----------------------------------------------------------
    Payload("ssti-jinja", "template", "{{7*7}}ssti-jinja"),
    Payload("ssti-jinja-string", "template", "{{7*'7'}}ssti-jinja-string"),
    Payload("ssti-statement", "template", "{%print(6*7)%}ssti-statement"),
    Payload("ssti-dollar", "template", "${7*7}ssti-dollar"),
    Payload("ssti-hash", "template", "#{7*7}ssti-hash"),
    Payload("ssti-config", "template", "{{config}}{{settings.secret_key}}ssti-config"),
    Payload("ssti-globals", "template", "{{ cycler.__init__.__globals__.os.getcwd() }}ssti-globals"),
    # --- htmx attribute injection ----------------------------------------------------------------------------
    Payload("htmx-get-load", "htmx", '<div hx-get="/logout" hx-trigger="load" hx-swap="outerHTML">htmx-get-load</div>'),
    Payload("htmx-post-load", "htmx", '<form hx-post="/logout" hx-trigger="load">htmx-post-load</form>'),
    Payload("htmx-data-prefix", "htmx", '<div data-hx-post="/logout" data-hx-trigger="load">htmx-data-prefix</div>'),
    Payload("htmx-on", "htmx", f'<div hx-on::load="{_m("htmx-on")}" hx-get="/my" hx-trigger="load">htmx-on</div>'),
    Payload("htmx-on-click", "htmx", f'<button hx-on:click="{_m("htmx-on-click")}">htmx-on-click</button>'),
    Payload(
        "htmx-vals-js",
        "htmx",
        f'<div hx-post="/logout" hx-vals=\'js:{{a:{_m("htmx-vals-js")}}}\' hx-trigger="load">htmx-vals-js</div>',
    ),
    Payload("htmx-img", "htmx", '<img src=x hx-get="/my" hx-trigger="load" hx-target="body">'),
    # --- CSS -------------------------------------------------------------------------------------------------
    Payload("css-style-import", "css", f"<style>@import 'javascript:{_m('css-style-import')}';</style>"),
    Payload("css-style-url", "css", f'<style>*{{background:url("javascript:{_m("css-style-url")}")}}</style>'),
    Payload("css-attr-url", "css", f'<div style="background:url(javascript:{_m("css-attr-url")})">css-attr-url</div>'),
    Payload("css-expression", "css", f'<div style="width:expression({_m("css-expression")})">css-expression</div>'),
    Payload("css-link", "css", f'<link rel=stylesheet href="javascript:{_m("css-link")}">'),
    Payload(
        "css-overlay",
        "css",
        f'<div style="position:fixed;inset:0;z-index:9999" onmouseover={_m("css-overlay")}>css-overlay</div>',
    ),
]

# Texts that appear only if a template engine evaluated a probe: `{{7*7}}ssti-jinja` must never become
# `49ssti-jinja`.
EVALUATED = ["49ssti-jinja", "7777777ssti-jinja", "42ssti-statement", "49ssti-dollar", "49ssti-hash"]

BY_ID = {payload.id: payload for payload in PAYLOADS}
assert len(BY_ID) == len(PAYLOADS), "payload ids must be unique"


def chunks(texts: list[str], limit: int, sep: str = " ") -> list[str]:
    """The texts packed greedily, in order, into strings of at most `limit` characters (a field's maximum length);
    a text longer than the limit on its own is left out."""
    packed: list[str] = []
    current = ""
    for text in texts:
        if len(text) > limit:
            continue
        if current and len(current) + len(sep) + len(text) > limit:
            packed.append(current)
            current = ""
        current = f"{current}{sep}{text}" if current else text
    if current:
        packed.append(current)
    return packed
