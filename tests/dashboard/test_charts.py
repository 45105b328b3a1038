"""The dashboard charts: well-formed, accessible SVG plus a data table, with every label escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest
from markupsafe import Markup

from app.dashboard.charts import (
    BarItem,
    Chart,
    FunnelStep,
    LinePoint,
    bar_chart,
    funnel_chart,
    line_chart,
    truncate,
)

NS = "{http://www.w3.org/2000/svg}"
LONG = "カスタマーハラスメントの基本と初期対応について学ぶ研修"  # 27 full-width characters
PHONE_CARD = 310  # px: the chart's container on a 375 px wide phone


def svg_root(chart: Chart) -> ET.Element:
    return ET.fromstring(str(chart.svg))  # raises if the SVG is not well-formed XML


def table_root(chart: Chart) -> ET.Element:
    return ET.fromstring(str(chart.table))


def by_class(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [el for el in root.iter(NS + tag) if cls in el.get("class", "").split()]


def body_rows(chart: Chart) -> list[list[str]]:
    return [["".join(cell.itertext()) for cell in row] for row in table_root(chart).iter("tbody") for row in row]


def sample_bar(label: str = "営業部") -> Chart:
    items = [BarItem(label, 100), BarItem("総務部", 50, "2名休職中"), BarItem("人事部", 0)]
    return bar_chart("by-dept", "部署別の修了率", items)


def sample_line(label: str = "11/28") -> Chart:
    points = [LinePoint(label, 1)] + [LinePoint(f"12/{d}", d * 2) for d in range(1, 15)]
    return line_chart("progress", "修了者数の推移", points, target=40, marker_label="期限 12/15", marker_index=14)


def sample_funnel(label: str = "第1回 基礎") -> Chart:
    steps = [FunnelStep(label, 30, 20, 10), FunnelStep("第2回 応用", 20, 15, None)]
    return funnel_chart("funnel", "レッスン別の進み具合", steps, total=40)


SAMPLES: list[Callable[..., Chart]] = [sample_bar, sample_line, sample_funnel]


def test_bar_chart_draws_one_proportional_bar_per_item() -> None:
    bars = by_class(svg_root(sample_bar()), "rect", "chart-bar")
    widths = [float(b.get("width", "")) for b in bars]
    assert len(bars) == 3
    assert widths[1] == pytest.approx(widths[0] / 2)
    assert widths[2] == 0
    texts = [t.text for t in svg_root(sample_bar()).iter(NS + "text")]
    assert {"100%", "50%", "0%"} <= set(texts)


def test_bar_chart_clamps_out_of_range_values() -> None:
    chart = bar_chart("clamp", "t", [BarItem("a", 100), BarItem("b", 140), BarItem("c", -5)])
    widths = [float(b.get("width", "")) for b in by_class(svg_root(chart), "rect", "chart-bar")]
    assert widths == [widths[0], widths[0], 0]


def test_bar_table_has_one_row_per_item_with_numbers_and_notes() -> None:
    assert body_rows(sample_bar()) == [["営業部", "100%", ""], ["総務部", "50%", "2名休職中"], ["人事部", "0%", ""]]


def test_line_chart_draws_every_point_and_thins_date_labels() -> None:
    root = svg_root(sample_line())
    assert len(by_class(root, "circle", "chart-point")) == 15
    assert len(by_class(root, "polyline", "chart-line")[0].get("points", "").split()) == 15
    assert len(by_class(root, "g", "chart-label")) <= 8
    assert len(by_class(root, "line", "chart-grid")) == 5  # baseline + 4 gridlines


def test_line_chart_target_and_marker_lines() -> None:
    root = svg_root(sample_line())
    texts = [t.text for t in root.iter(NS + "text")]
    assert "対象者 40人" in texts
    assert "期限 12/15" in texts
    marker = by_class(root, "line", "chart-marker")[0]
    assert marker.get("stroke") == "#b42318" and marker.get("stroke-dasharray")
    assert marker.get("x1") == marker.get("x2") == by_class(root, "circle", "chart-point")[14].get("cx")
    assert by_class(root, "line", "chart-target")[0].get("stroke-dasharray")


def test_line_chart_y_axis_reaches_target_with_round_ticks() -> None:
    root = svg_root(sample_line())
    ticks = [t.text for t in root.iter(NS + "text") if t.get("text-anchor") == "end" and (t.text or "").isdigit()]
    assert ticks == ["0", "10", "20", "30", "40"]


def test_line_chart_with_one_point_is_valid() -> None:
    chart = line_chart("one", "t", [LinePoint("12/01", 3)], target=None)
    assert len(by_class(svg_root(chart), "circle", "chart-point")) == 1
    assert body_rows(chart) == [["12/01", "3"]]


def test_line_chart_rejects_marker_outside_points() -> None:
    with pytest.raises(ValueError):
        line_chart("bad", "t", [LinePoint("12/01", 3)], target=None, marker_index=1)


def test_line_table_has_one_row_per_point() -> None:
    rows = body_rows(sample_line())
    assert len(rows) == 15
    assert rows[0] == ["11/28", "1"] and rows[-1] == ["12/14", "28"]


def test_funnel_chart_draws_three_bars_per_lesson_proportional_to_total() -> None:
    root = svg_root(sample_funnel())
    groups = by_class(root, "g", "chart-group")
    assert len(groups) == 2
    first = [float(b.get("width", "")) for b in by_class(groups[0], "rect", "chart-bar")]
    assert first[0] == pytest.approx(first[2] * 3)  # 30 vs 10 of 40
    assert first[1] == pytest.approx(first[2] * 2)
    assert len(by_class(groups[1], "rect", "chart-bar")) == 2  # no test: no passed bar
    assert "テストなし" in [t.text for t in groups[1].iter(NS + "text")]
    legend = {t.text for t in root.iter(NS + "text")}
    assert {"開いた", "読了", "テスト合格", "30人", "20人", "10人"} <= legend


def test_funnel_counts_use_thousands_separators() -> None:
    chart = funnel_chart("big", "t", [FunnelStep("カスハラとクレームの違い", 1500, 1234, None)], total=1500)
    texts = [t.text for t in svg_root(chart).iter(NS + "text")]
    assert {"1,500人", "1,234人", "棒の全長 = 対象者 1,500人"} <= set(texts)
    assert body_rows(chart) == [["カスハラとクレームの違い", "1,500人", "1,234人", "テストなし"]]


def test_funnel_table_has_one_row_per_lesson() -> None:
    assert body_rows(sample_funnel()) == [
        ["第1回 基礎", "30人", "20人", "10人"],
        ["第2回 応用", "20人", "15人", "テストなし"],
    ]


@pytest.mark.parametrize("make", SAMPLES)
def test_labels_are_escaped(make: Callable[..., Chart]) -> None:
    chart = make("<script>alert(1)</script>")
    assert "<script>" not in chart.html()
    assert "&lt;script&gt;" in chart.svg and "&lt;script&gt;" in chart.table
    assert not list(svg_root(chart).iter(NS + "script")) and not list(svg_root(chart).iter("script"))
    assert not list(table_root(chart).iter("script"))


@pytest.mark.parametrize("make", SAMPLES)
def test_title_and_desc_are_referenced_by_aria_labelledby(make: Callable[..., Chart]) -> None:
    root = svg_root(make())
    assert root.get("role") == "img"
    assert root.get("width") == "100%" and root.get("viewBox", "").startswith("0 0 400 ")
    assert "Noto Sans CJK JP" in root.get("font-family", "")
    ids = root.get("aria-labelledby", "").split()
    assert [root.find(f"{NS}title"), root.find(f"{NS}desc")] == [root.find(f".//*[@id='{i}']") for i in ids]
    assert all((root.find(f".//*[@id='{i}']").text or "").strip() for i in ids)  # type: ignore[union-attr]


@pytest.mark.parametrize("make", SAMPLES)
def test_no_inline_style_or_event_handlers(make: Callable[..., Chart]) -> None:
    for root in (svg_root(make()), table_root(make())):
        for el in root.iter():
            assert "style" not in el.attrib
            assert not [a for a in el.attrib if a.lower().startswith("on")]
            assert not el.tag.endswith("style")


@pytest.mark.parametrize("make", SAMPLES)
def test_font_sizes_are_readable_on_a_phone(make: Callable[..., Chart]) -> None:
    root = svg_root(make())
    sizes = [float(t.get("font-size", "0")) for t in root.iter(NS + "text")]
    assert sizes and min(sizes) >= 14
    width = float(root.get("viewBox", "").split()[2])
    assert min(sizes) * PHONE_CARD / width >= 10.8  # rendered px in a phone-sized card


def _right_edge(el: ET.Element) -> float:
    if el.tag == NS + "rect":
        return float(el.get("x", "")) + float(el.get("width", ""))
    if el.tag == NS + "line":
        return max(float(el.get("x1", "")), float(el.get("x2", "")))
    return float(el.get("cx", "")) + float(el.get("r", ""))


@pytest.mark.parametrize("make", SAMPLES)
def test_shapes_stay_inside_the_view_box(make: Callable[..., Chart]) -> None:
    root = svg_root(make())
    width = float(root.get("viewBox", "").split()[2])
    shapes = [el for tag in ("rect", "line", "circle") for el in root.iter(NS + tag)]
    assert shapes and all(0 <= _right_edge(el) <= width for el in shapes)
    for t in root.iter(NS + "text"):
        x = float(t.get("x", ""))
        assert (0 < x < width) if t.get("text-anchor") == "middle" else (0 <= x <= width)


def test_full_bar_leaves_room_for_its_percentage() -> None:
    root = svg_root(sample_bar())
    bar = by_class(root, "rect", "chart-bar")[0]  # 100%
    label = next(t for t in root.iter(NS + "text") if t.text == "100%")
    end = float(bar.get("x", "")) + float(bar.get("width", ""))
    assert float(label.get("x", "")) > end
    assert float(label.get("x", "")) + 4 * 0.6 * float(label.get("font-size", "")) <= 400  # "100%" fits


# Row labels have a line of their own (25 full-width characters); date labels sit between ticks (3).
@pytest.mark.parametrize(("make", "kept"), [(sample_bar, 25), (sample_line, 3), (sample_funnel, 25)])
def test_long_labels_are_truncated_but_kept_in_title(make: Callable[..., Chart], kept: int) -> None:
    root = svg_root(make(LONG))
    group = next(g for g in by_class(root, "g", "chart-label") if g.findtext(NS + "title") == LONG)
    shown = group.findtext(NS + "text") or ""
    assert shown == LONG[:kept] + "…"
    assert LONG in "".join(table_root(make(LONG)).itertext())


@pytest.mark.parametrize("make", [sample_bar, sample_funnel])
@pytest.mark.parametrize("label", ["お客様センター 第一グループ", "カスハラとクレームの違い", "企業として準備すること"])
def test_realistic_row_labels_are_shown_in_full(make: Callable[..., Chart], label: str) -> None:
    group = next(g for g in by_class(svg_root(make(label)), "g", "chart-label") if g.findtext(NS + "title") == label)
    assert group.findtext(NS + "text") == label


def test_truncate_counts_half_width_as_half() -> None:
    assert truncate("あ" * 25) == "あ" * 25
    assert truncate("あ" * 26) == "あ" * 25 + "…"
    assert truncate("a" * 50) == "a" * 50
    assert truncate("a" * 51) == "a" * 50 + "…"
    assert truncate("11/28", 3) == "11/28"
    assert truncate("あいうえ", 3) == "あいう…"


@pytest.mark.parametrize(
    "chart",
    [
        bar_chart("empty", "部署別の修了率", []),
        line_chart("empty", "修了者数の推移", [], target=10),
        funnel_chart("empty", "レッスン別", [FunnelStep("a", 1, 1, 1)], total=0),
        funnel_chart("empty", "レッスン別", [], total=10),
    ],
)
def test_empty_input_says_no_data(chart: Chart) -> None:
    root = svg_root(chart)
    assert "データがありません" in [t.text for t in root.iter(NS + "text")]
    assert root.findtext(NS + "desc") == "データがありません"
    assert root.get("aria-labelledby") == "empty-title empty-desc"
    assert "データがありません" in "".join(table_root(chart).itertext())


@pytest.mark.parametrize("bad", ["", "Chart", "1chart", "chart_id", "chart id", "chart\n", 'x"><script>'])
def test_invalid_chart_id_raises(bad: str) -> None:
    for make in (
        lambda: bar_chart(bad, "t", []),
        lambda: line_chart(bad, "t", [], target=None),
        lambda: funnel_chart(bad, "t", [], total=0),
    ):
        with pytest.raises(ValueError):
            make()


def test_html_wraps_svg_and_table_in_a_figure() -> None:
    chart = sample_bar()
    html = chart.html()
    assert isinstance(html, Markup) and isinstance(chart.svg, Markup) and isinstance(chart.table, Markup)
    assert html.startswith('<figure class="chart"><svg') and html.endswith("</table></figure>")
    table = table_root(chart)
    assert table.get("class") == "chart-data visually-hidden"
    assert table.findtext("caption") == "部署別の修了率"
    assert ["".join(th.itertext()) for th in table.iter("th")][:3] == ["項目", "割合", "備考"]
