"""Calendar arithmetic for recurring training and expiring certificates. Pure functions: callers pass `now`,
so tests control the clock."""

from __future__ import annotations

import calendar
from datetime import datetime


def add_months(when: datetime, months: int) -> datetime:
    """The same day and time `months` later; the 31st becomes the month's last day when the month is shorter."""
    month_index = when.month - 1 + months
    year, month = when.year + month_index // 12, month_index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)
