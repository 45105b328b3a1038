from bs4 import BeautifulSoup

from app.content.markdown import render, sanitise

HOSTILE = """## 見出し

<script>alert("x")</script>

<img src=x onerror="alert(1)">

[クリック](javascript:alert(1)) [もう一つ](JaVaScRiPt:alert(2)) [データ](data:text/html;base64,PHNjcmlwdD4=)

[正しいリンク](https://www.mhlw.go.jp/) [メール](mailto:soudan@example.com)
"""


def _dangerous(html: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    found = [tag.name for tag in soup.find_all(["script", "iframe", "object", "embed", "style"])]
    for tag in soup.find_all(True):
        found += [f"{tag.name}@{attr}" for attr in tag.attrs if attr.lower().startswith("on")]
        href = str(tag.get("href", "") or tag.get("src", "")).strip().lower()
        if href.startswith(("javascript:", "data:", "vbscript:")):
            found.append(f"{tag.name}->{href}")
    return found


def test_author_html_and_script_links_never_reach_the_page() -> None:
    html = render(HOSTILE).html
    assert _dangerous(html) == []
    soup = BeautifulSoup(html, "html.parser")
    hrefs = [a["href"] for a in soup.find_all("a")]
    assert hrefs == ["https://www.mhlw.go.jp/", "mailto:soudan@example.com"]
    assert "<script>" not in html and "&lt;script&gt;" in html  # shown as text, never as markup


def test_sanitiser_strips_what_a_renderer_bug_could_let_through() -> None:
    raw = (
        '<p onclick="x()">a</p><script>alert(1)</script><a href="javascript:alert(1)">b</a>'
        '<img src="/assets/1/x.png" onerror="alert(1)"><iframe src="https://evil"></iframe>'
        '<div class="admonition point" style="position:fixed">c</div>'
    )
    cleaned = sanitise(raw)
    assert _dangerous(cleaned) == []
    soup = BeautifulSoup(cleaned, "html.parser")
    assert soup.find("img")["src"] == "/assets/1/x.png"
    assert soup.find("div")["class"] == ["admonition", "point"]
    assert soup.find("div").get("style") is None


def test_admonitions_get_japanese_titles_unless_the_author_wrote_one() -> None:
    html = render('!!! point\n    a\n\n!!! caution\n    b\n\n!!! case "事例: ケーキ"\n    c\n').html
    titles = [p.get_text() for p in BeautifulSoup(html, "html.parser").select(".admonition-title")]
    assert titles == ["ポイント", "注意", "事例: ケーキ"]


def test_headings_get_anchors_and_make_the_table_of_contents() -> None:
    rendered = render("## 定義\n\n### 2つの軸\n\n## 定義\n\n|a|b|\n|-|-|\n|1|2|\n")
    soup = BeautifulSoup(rendered.html, "html.parser")
    ids = [h["id"] for h in soup.find_all(["h2", "h3"])]
    assert len(set(ids)) == 3  # repeated headings still get unique anchors
    assert [(item["level"], item["title"]) for item in rendered.toc] == [
        (2, "定義"),
        (3, "2つの軸"),
        (2, "定義"),
    ]
    assert soup.find("table") is not None
