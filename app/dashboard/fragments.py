"""The figures' part of the 受講状況 page (headline, charts, department table, item analysis), rendered once per
snapshot and view and then reused by this worker.

At 100,000 employees that part is most of the page's work (610 departments in a chart and a table: 10–15 ms of
the event loop per view, profiled in docs/performance.md), and it only changes when its snapshot does. A snapshot
row never changes once computed: the next one has a new `computed_at`. So the rendered HTML, keyed by the snapshot
(its key and `computed_at`), whether it was still fresh, the view's query and the locale, is immutable, like a
published version, and a worker may keep it without telling any other worker.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from markupsafe import Markup

from app.core.lru import Lru
from app.core.templating import render_fragment
from app.dashboard.pages import Dashboard, add_charts
from app.dashboard.schemas import DashboardQuery

# Enough for every manager's usual views in a large company; each entry is the HTML of one view (50–300 KB).
MAX_FRAGMENTS = 48


@dataclass(frozen=True)
class FiguresHtml:
    """The page's two parts drawn from the snapshot: above the employee table, and below it."""

    headline: Markup
    analysis: Markup


_rendered: Lru[tuple[object, ...], FiguresHtml] = Lru(MAX_FRAGMENTS)


def figures_html(request: Request, board: Dashboard, query: DashboardQuery) -> FiguresHtml | None:
    """The figures' HTML for this view, from the cache or rendered now; None when there are no figures."""
    if board.figures is None:
        return None
    key = (
        board.course.id,
        board.figures_key,
        board.figures_at,
        board.figures_fresh,
        board.department.id if board.department else None,
        query.link(),  # the figures' links keep the view's filters
        request.app.state.settings.locale,
    )
    html = _rendered.get(key)
    if html is not None:
        return html
    add_charts(board, now=board.figures.computed_at)
    context = {"d": board, "q": query}
    html = FiguresHtml(
        headline=render_fragment(request, "dashboard/dashboard.html", "headline", context),
        analysis=render_fragment(request, "dashboard/dashboard.html", "analysis", context),
    )
    _rendered.put(key, html)
    return html


def forget_all() -> None:
    """For tests: start from an empty cache."""
    _rendered.clear()
