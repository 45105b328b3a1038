"""Ids and page numbers that arrive as text or unbounded integers: kept within what the database can compare.

A number beyond a column's range is not "nothing found" to the drivers but an error (SQLite: OverflowError; asyncpg:
"value out of int32 range"), which became a 500; and `str.isdigit()` accepts "²", which `int()` refuses.
"""

from __future__ import annotations

MAX_ID = 2_147_483_647  # primary keys are 32-bit integers in PostgreSQL
MAX_PAGE = 100_000  # as for the dashboard (DashboardQuery.page): far beyond any list, far below an offset overflow


def parse_id(text: str) -> int | None:
    """The id written in `text` (a form field, a filter), or None when it is not one."""
    text = text.strip()
    if not text.isdecimal() or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def page_number(page: int) -> int:
    """A requested page brought within 1..MAX_PAGE."""
    return min(max(page, 1), MAX_PAGE)
