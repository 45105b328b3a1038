"""Recurring assignments as chains of cycles: when each cycle opens and is due, and which cycle is the newest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists
from sqlalchemy.orm import aliased

from app.assignments.models import Assignment
from app.core.clock import add_months


def cycle_dates(first: Assignment, cycle: int) -> tuple[datetime, datetime | None]:
    """(opens, due) of cycle number `cycle` (0 = the first) of a recurring chain. Counted from the first cycle,
    not from the previous one, so a due date on the 31st does not drift to the 30th after a short month."""
    months = (first.recur_months or 0) * cycle
    return add_months(first.opens_at, months), add_months(first.due_at, months) if first.due_at else None


def latest_cycle_only() -> object:
    """A WHERE clause keeping only the newest cycle of each recurring chain (and every one-off assignment)."""
    successor = aliased(Assignment)
    return ~exists().where(successor.previous_id == Assignment.id)
