"""The printable PDFs, read back with pypdf: the text is really there, it wraps inside the page, tables paginate."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone
from functools import cache

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from app.pdf import Section, Table, certificate_pdf, document_pdf, report_pdf
from app.pdf.base import FONT_FILE

MM = 72 / 25.4  # points per millimetre
A4_SHORT, A4_LONG = 595.28, 841.89

# The shape app.content.markdown produces: admonitions from mdit-py-plugins, tables, lists, code, escaped text.
SAMPLE_HTML = """
<h2 id="kihon">1. 基本方針</h2>
<p>当社は、お客様からのご意見に誠実に対応します。<strong>ただし</strong>、従業員の尊厳を傷つける言動には
毅然と対応します。詳しくは<a href="https://example.com/policy" rel="noopener noreferrer">方針のページ</a>を参照。</p>
<h3 id="taisho">対象となる言動</h3>
<ul>
<li>身体への攻撃(暴行・傷害)</li>
<li>精神的な攻撃(脅迫、中傷、名誉毀損)</li>
</ul>
<ol start="3">
<li><p>記録を取る</p></li>
<li><p>上司に報告する</p></li>
</ol>
<h4>罪名の一覧</h4>
<table>
<thead><tr><th>罪名(刑法)</th><th style="text-align:right">法定刑</th></tr></thead>
<tbody>
<tr><td>暴行罪(208条)</td><td style="text-align:right">2年以下の拘禁刑</td></tr>
<tr><td>強要罪(223条)</td><td style="text-align:right">3年以下の拘禁刑</td></tr>
</tbody>
</table>
<div class="admonition point">
<p class="admonition-title">ポイント</p>
<p>土下座の要求には応じません。</p>
</div>
<div class="admonition caution">
<p class="admonition-title">注意</p>
<p>一人で抱え込まないでください。</p>
</div>
<blockquote><p>引用された相談窓口の案内です。</p></blockquote>
<pre><code>lms content import content/kasuhara-basics
</code></pre>
<p>コマンドは <code>lms serve</code> です。<br>改行の後の行。</p>
<hr>
<p>&lt;script&gt;alert(1)&lt;/script&gt; は文字として表示されます。</p>
"""
SAMPLE_TEXTS = [
    "1.基本方針",
    "対象となる言動",
    "罪名の一覧",
    "身体への攻撃(暴行・傷害)",
    "精神的な攻撃(脅迫、中傷、名誉毀損)",
    "3.記録を取る",
    "4.上司に報告する",
    "罪名(刑法)",
    "法定刑",
    "暴行罪(208条)",
    "3年以下の拘禁刑",
    "ポイント",
    "土下座の要求には応じません。",
    "注意",
    "一人で抱え込まないでください。",
    "引用された相談窓口の案内です。",
    "lmscontentimportcontent/kasuhara-basics",
    "コマンドはlmsserveです。",
    "方針のページ",
    "従業員の尊厳を傷つける言動には毅然と対応します。",  # the source line break between 言動には / 毅然 is dropped
    "<script>alert(1)</script>は文字として表示されます。",
]


def squash(text: str) -> str:
    """pypdf may put spaces or line breaks between glyph runs; compare text with all whitespace removed."""
    return re.sub(r"\s+", "", text)


def pages_text(pdf: bytes) -> list[str]:
    return [squash(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


@cache
def _font() -> tuple[dict[int, str], dict[str, tuple[int, int]], int]:
    font = TTFont(FONT_FILE, lazy=True)
    return font.getBestCmap(), font["hmtx"].metrics, font["head"].unitsPerEm


def text_width_pt(text: str, size: float, base_font: str) -> float:
    """The advance width of `text` computed independently of app.pdf, from the font file itself."""
    if "Courier" in base_font:
        return len(text) * 0.6 * size
    cmap, metrics, units = _font()
    return sum(metrics[cmap[ord(ch)]][0] for ch in text if ord(ch) in cmap) * size / units


def text_spans(pdf: bytes) -> list[tuple[int, float, float, float, str]]:
    """(page, left, right, page width, text) of every text-showing operation, in points."""
    spans = []
    for number, page in enumerate(PdfReader(io.BytesIO(pdf)).pages):
        width = float(page.mediabox.width)

        def visit(text, cm, tm, font, size, number=number, width=width):
            text = text.strip("\n")
            if text.strip() and font is not None:
                left = tm[4] * cm[0] + cm[4]
                scale = tm[0] * cm[0]
                # pypdf separates some runs with a space that is not in the PDF
                shown = text.lstrip(" ")
                right = left + text_width_pt(shown, size * scale, str(font["/BaseFont"]))
                spans.append((number, left, right, width, shown))

        page.extract_text(visitor_text=visit)
    return spans


def assert_inside(pdf: bytes, *, margin_mm: float) -> None:
    spans = text_spans(pdf)
    assert spans
    for page, left, right, width, text in spans:
        assert left >= margin_mm * MM - 0.5, (page, left, text[:20])
        assert right <= width - margin_mm * MM + 0.5, (page, right, width, text[:20])


def has_image(page) -> bool:
    xobjects = page["/Resources"].get("/XObject", {})
    return any(xobject.get_object()["/Subtype"] == "/Image" for xobject in xobjects.values())


# -- document_pdf ---------------------------------------------------------------------------------------------


def test_document_contains_title_meta_and_every_block() -> None:
    pdf = document_pdf(
        title="カスタマーハラスメント対策基本方針",
        meta_lines=["第3版", "公開日 2026年11月28日", "発行者 株式会社サンプル"],
        html=SAMPLE_HTML,
    )

    text = "".join(pages_text(pdf))
    for expected in ["カスタマーハラスメント対策基本方針", "第3版", "公開日2026年11月28日", "発行者株式会社サンプル"]:
        assert expected in text
    missing = [expected for expected in SAMPLE_TEXTS if squash(expected) not in text]
    assert missing == []


def test_document_metadata_and_page_format() -> None:
    now = datetime(2026, 11, 28, 9, 30, tzinfo=timezone(timedelta(hours=9)))

    pdf = document_pdf(title="接客マニュアル", meta_lines=[], html="<p>本文</p>", now=now)

    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.title == "接客マニュアル"
    assert reader.metadata.creator == "カスハラ対策研修"
    assert reader.metadata.creation_date == now
    page = reader.pages[0]
    assert float(page.mediabox.width) == pytest.approx(A4_SHORT, abs=0.1)
    assert float(page.mediabox.height) == pytest.approx(A4_LONG, abs=0.1)


def test_long_document_paginates_with_numbered_footers() -> None:
    html = "".join(f"<h2>第{n}章</h2><p>{'従業員の安全を守るための手順を説明します。' * 12}</p>" for n in range(1, 21))

    pdf = document_pdf(title="長いマニュアル", meta_lines=["第1版"], html=html)

    pages = pages_text(pdf)
    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert f"{number}/{len(pages)}" in page
        assert "長いマニュアル" in page
    assert all(f"第{n}章" in "".join(pages) for n in range(1, 21))


@pytest.mark.parametrize(
    "body",
    [
        "カスタマーハラスメント対策" * 385,  # 5,005 Japanese characters, no space anywhere
        "W" * 5000,  # one Latin "word" far wider than the page
        ("「お客様」、（対応）。" + "ー" * 3) * 400,  # brackets, punctuation and long marks that may not start a line
    ],
    ids=["japanese", "latin-word", "kinsoku"],
)
def test_text_without_spaces_wraps_inside_the_margins(body: str) -> None:
    pdf = document_pdf(title="折り返し", meta_lines=[], html=f"<p>{body}</p>")

    assert squash("".join(pages_text(pdf))).count(body[:40]) >= 1
    body_spans = [span for span in text_spans(pdf) if span[4] not in ("折り返し",) and "/" not in span[4]]
    assert len(body_spans) > len(body) / 60  # one span per line: the text really was broken into lines
    assert "".join(span[4] for span in body_spans) == body  # nothing lost, nothing repeated
    assert_inside(pdf, margin_mm=20)


def test_line_breaking_rules_for_japanese_punctuation() -> None:
    pdf = document_pdf(title="禁則", meta_lines=[], html="<p>" + "あいうえお、かきくけこ。「さしすせそ」" * 60 + "</p>")

    lines = [span[4] for span in text_spans(pdf) if span[4] != "禁則" and "/" not in span[4]]
    assert len(lines) > 5
    assert not [line for line in lines if line[0] in "、。」"]
    assert not [line for line in lines if line[-1] == "「"]


def test_missing_glyphs_and_control_characters_do_not_break_rendering() -> None:
    html = "<p>絵文字😀👨‍👩‍👧👍🏽と制御文字\x00\x07と私用領域\ue000と結合文字é̃と𠮷野家と丸数字①</p>"

    pdf = document_pdf(title="絵文字😀", meta_lines=["🎌 版"], html=html)

    text = "".join(pages_text(pdf))
    assert "絵文字〓と制御文字と私用領域と結合文字" in text  # an emoji cluster becomes one 〓 (geta)
    assert "丸数字①" in text
    assert squash(PdfReader(io.BytesIO(pdf)).metadata.title) == "絵文字〓"


@pytest.mark.parametrize(
    "html",
    [
        "",
        "just text, no tags",
        "<p>閉じていない段落<li>はぐれた項目<td>はぐれたセル",
        "<div>" * 2000 + "深い入れ子" + "</div>" * 2000,
        "<table><tr><td>" + "長" * 12000 + "</td><td>短い</td></tr></table>",
        "<table><tr><th>" + "見出し" * 900 + "</th></tr><tr><td>a</td></tr></table>",
        "<pre>" + ("x" * 300 + "\n") * 120 + "</pre>",
        "<ol start='abc'><li></li></ol><table></table><ul><li><ul><li><ul><li>三段</li></ul></li></ul></li></ul>",
        "<script>alert(1)</script><style>p{}</style><p>見える</p>",
    ],
    ids=["empty", "text", "unclosed", "deep", "tall-cell", "tall-header", "long-pre", "odd-lists", "script"],
)
def test_awkward_html_renders(html: str) -> None:
    pdf = document_pdf(title="試験", meta_lines=[], html=html)

    assert pdf.startswith(b"%PDF-")
    assert_inside(pdf, margin_mm=20)
    if "見える" in html:
        assert "見える" in "".join(pages_text(pdf)) and "alert" not in "".join(pages_text(pdf))


def test_two_page_document_is_small_because_the_font_is_subset() -> None:
    pdf = document_pdf(title="方針", meta_lines=[], html=f"<p>{'カスハラ対策の基本方針を周知します。' * 120}</p>")

    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2
    assert len(pdf) < 200_000


# -- certificate_pdf ------------------------------------------------------------------------------------------

CERTIFICATE = {
    "holder": "山田 太郎",
    "course_title": "カスタマーハラスメント対策 基礎研修",
    "version_label": "第2版",
    "completed_on": "2026年11月28日",
    "expires_on": "2028年11月27日",
    "code": "KSH-7Q4M-2XWP",
    "verify_url": "https://lms.example.jp/certificates/verify/KSH-7Q4M-2XWP",
    "issuer": "株式会社サンプル 代表取締役 佐藤 花子",
}


def test_certificate_is_one_landscape_page_with_every_field_and_a_qr_code() -> None:
    pdf = certificate_pdf(**CERTIFICATE)

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)
    text = pages_text(pdf)[0]
    for value in ["修了証", "殿", "修了日", "有効期限", *CERTIFICATE.values()]:
        assert squash(value) in text, value
    assert has_image(page)
    assert_inside(pdf, margin_mm=10)


def test_certificate_without_expiry_says_so() -> None:
    pdf = certificate_pdf(**{**CERTIFICATE, "expires_on": None})

    assert "有効期限なし" in pages_text(pdf)[0]


def test_certificate_stays_on_one_page_with_absurd_input() -> None:
    pdf = certificate_pdf(
        holder="😀" + "長い名前" * 80,
        course_title="とても長いコース名" * 200,
        version_label="v" * 200,
        completed_on="2026年11月28日",
        expires_on=None,
        code="コード" * 50,
        verify_url="https://lms.example.jp/" + "a" * 4000,  # too long for any QR code
        issuer="発行者" * 100,
    )

    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    assert_inside(pdf, margin_mm=10)


# -- report_pdf -----------------------------------------------------------------------------------------------


def test_report_paginates_two_thousand_rows_repeating_the_header() -> None:
    rows = [
        [f"ROW{n:05d}", f"受講者{n}", "基礎研修" if n % 4 else "実践研修" * 12, "修了" if n % 2 else "未修了"]
        for n in range(2000)
    ]

    pdf = report_pdf(
        title="研修実施記録",
        meta_lines=["対象: 全社", "作成日時: 2026年11月28日 10:00", "作成者: 管理者"],
        sections=[
            Section(
                heading="1. 受講状況",
                paragraphs=["受講者ごとの状況です。"],
                tables=[Table(columns=["受講者ID", "氏名", "コース", "状態"], rows=rows, widths=[1, 1.2, 3, 0.8])],
            ),
            Section(heading="2. 方針の確認", tables=[Table(columns=["部署", "確認率"], rows=[["営業", "98%"]])]),
        ],
    )

    reader = PdfReader(io.BytesIO(pdf))
    page = reader.pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)
    pages = pages_text(pdf)
    assert len(pages) > 20
    assert all("受講者ID" in page for page in pages[:-1])  # the header row is on every page the table reaches
    assert all(page.count("受講者ID") == 1 for page in pages)
    keys = re.findall(r"ROW\d{5}", "".join(pages))
    assert sorted(keys) == [f"ROW{n:05d}" for n in range(2000)]
    assert "研修実施記録" in pages[0] and "対象:全社" in pages[0] and "2.方針の確認" in pages[-1]
    assert_inside(pdf, margin_mm=15)


def test_report_wraps_long_cells_and_splits_a_row_taller_than_a_page() -> None:
    long_cell = "記録の詳細" * 1500

    pdf = report_pdf(
        title="長いセル",
        meta_lines=[],
        sections=[Section(heading="セル", tables=[Table(columns=["ID", "内容"], rows=[["A1", long_cell]])])],
        landscape=False,
    )

    pages = pages_text(pdf)
    assert len(pages) > 2
    assert all("ID内容" in page for page in pages)
    cell_lines = [span[4] for span in text_spans(pdf) if set(span[4]) <= set("記録の詳細")]
    assert "".join(cell_lines) == long_cell
    assert_inside(pdf, margin_mm=15)


def test_report_accepts_ragged_and_empty_tables() -> None:
    pdf = report_pdf(
        title="空",
        meta_lines=[],
        sections=[
            Section(heading="なし"),
            Section(
                heading="表",
                tables=[
                    Table(columns=[], rows=[]),
                    Table(columns=["a", "b"], rows=[["1", "2", "3"], []]),
                ],
            ),
        ],
    )

    assert "123" in "".join(pages_text(pdf))


def test_the_printed_check_link_never_breaks_inside_the_code() -> None:
    code = "7Q4M-2XWP-KD9H-3RTN-QX8Z"  # a real code's length (app/certificates/codes.py)
    for base in ("http://127.0.0.1:8000", "https://kasuhara-training.example-company.co.jp/lms"):
        pdf = certificate_pdf(**{**CERTIFICATE, "code": code, "verify_url": f"{base}/verify?code={code}"})
        lines = [line.strip() for line in PdfReader(io.BytesIO(pdf)).pages[0].extract_text().splitlines()]
        assert f"?code={code}" in lines, lines
        assert not any(line.endswith("-") and code.startswith(line.rpartition("=")[2]) for line in lines)
        assert_inside(pdf, margin_mm=10)
