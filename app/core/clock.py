"""Calendar arithmetic for recurring training and expiring certificates. Pure functions: callers pass `now`,
so tests control the clock."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

# The calendar people read dates in. Months are counted there: a completion at 05:00 on 29 February in Japan is
# still 28 February in UTC, and must expire on 28 February a year later in Japan, not on 1 March.
JAPAN = ZoneInfo("Asia/Tokyo")


def add_months(when: datetime, months: int) -> datetime:
    """The same day and time `months` later on the Japanese calendar (the 31st becomes the month's last day when
    the month is shorter), in the time zone `when` came in."""
    local = when.astimezone(JAPAN)
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(when.tzinfo or UTC)
