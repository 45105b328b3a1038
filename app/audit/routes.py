"""監査ログ: read-only, filterable. There is deliberately no route that changes or deletes an entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.audit import service
from app.auth.deps import require_admin
from app.core.deps import SessionDep
from app.core.ids import page_number, parse_id
from app.core.templating import TIMEZONE, render

router = APIRouter(prefix="/admin/audit", dependencies=[Depends(require_admin)])
PER_PAGE = 50


def _day(value: str, *, end: bool = False) -> datetime | None:
    """A yyyy-mm-dd from the form as the start (or the end) of that day in Japan."""
    try:
        day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=TIMEZONE)
        day = day + timedelta(days=1) if end else day
        day.astimezone(UTC)  # 0001-01-01 and 9999-12-31 fall off the calendar in UTC (it was a 500)
    except (ValueError, OverflowError):
        return None
    return day


@router.get("")
async def audit_log(
    request: Request,
    db: SessionDep,
    action: str = "",
    actor: str = "",
    q: str = "",
    since: str = "",
    until: str = "",
    page: int = 1,
) -> Response:
    page = page_number(page)
    audit_filter = service.AuditFilter(
        action=action if action in service.ACTION_LABELS else None,
        actor_id=parse_id(actor),
        text=q.strip()[:100] or None,
        since=_day(since),
        until=_day(until, end=True),
    )
    events, total = await service.list_events(db, audit_filter=audit_filter, page=page, per_page=PER_PAGE)
    context = {
        "events": events,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PER_PAGE)),
        "labels": service.ACTION_LABELS,
        "actors": await service.actors(db),
        "f": {"action": action, "actor": actor, "q": q, "since": since, "until": until},
    }
    return render(request, "audit/audit.html", context)
