from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from app.auth.deps import require_admin
from app.core.deps import SessionDep
from app.core.templating import render
from app.mail import service

router = APIRouter(prefix="/admin/outbox", dependencies=[Depends(require_admin)])


@router.get("")
async def outbox(request: Request, db: SessionDep) -> Response:
    return render(request, "mail/outbox.html", {"messages": await service.list_outbox(db)})
