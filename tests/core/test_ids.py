"""Ids and page numbers from text: what the database can compare, or nothing (never a 500 further down)."""

import pytest

from app.core.ids import MAX_ID, MAX_PAGE, page_number, parse_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12", 12),
        (" 7 ", 7),
        ("0", 0),
        (str(MAX_ID), MAX_ID),
        ("٣", 3),
        ("", None),
        ("abc", None),
        ("-1", None),
        ("²", None),
        ("1.5", None),
        (str(MAX_ID + 1), None),
        ("9" * 5000, None),
    ],
)
def test_parse_id_accepts_only_ids_the_database_can_hold(text: str, expected: int | None) -> None:
    assert parse_id(text) == expected


@pytest.mark.parametrize(("page", "expected"), [(-5, 1), (0, 1), (1, 1), (42, 42), (10**30, MAX_PAGE)])
def test_page_number_stays_within_the_pages_a_list_can_have(page: int, expected: int) -> None:
    assert page_number(page) == expected
