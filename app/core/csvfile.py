"""CSV files people open in Excel: UTF-8 with a BOM, CRLF, and no cell that Excel would run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime

from app.core.clock import JAPAN

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"  # Excel in Japanese then reads the file as UTF-8


# One way of writing time in every CSV we export: Excel in Japanese reads both as dates and sorts them.
CSV_DATETIME = "%Y/%m/%d %H:%M"
CSV_DATE = "%Y/%m/%d"


def csv_datetime(value: datetime | None) -> str:
    """A moment in Japan time, as every export writes it (2026/12/03 14:05); empty for None."""
    return "" if value is None else value.astimezone(JAPAN).strftime(CSV_DATETIME)


def csv_date(value: datetime | None) -> str:
    """A day in Japan time, as every export writes it (2026/12/03); empty for None."""
    return "" if value is None else value.astimezone(JAPAN).strftime(CSV_DATE)


def csv_cell(value: object) -> str:
    """A cell Excel will show as text: a leading = + - @ would otherwise run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """A whole CSV file: header, rows, BOM and CRLF, every cell made safe."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode("utf-8")
