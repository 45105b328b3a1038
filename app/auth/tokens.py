"""Personal API tokens for managers and admins: create (shown once) and revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import service
from app.auth.deps import CurrentUser
from app.core.deps import SessionDep
from app.core.errors import Forbidden
from app.core.templating import render

router = APIRouter(prefix="/account/tokens")


def _allowed(user: CurrentUser) -> None:
    if user.role not in ("manager", "admin"):
        raise Forbidden("API トークンは管理者とマネージャーだけが作成できます。")


@router.get("")
async def tokens_page(request: Request, db: SessionDep, user: CurrentUser) -> Response:
    _allowed(user)
    tokens = await service.list_api_tokens(db, user_id=user.id)
    return render(request, "auth/tokens.html", {"tokens": tokens, "new_token": None})


@router.post("")
async def create_token(
    request: Request, db: SessionDep, user: CurrentUser, name: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    _allowed(user)
    token = await service.create_api_token(db, user=user, name=name)
    tokens = await service.list_api_tokens(db, user_id=user.id)
    # Shown once, on this response only; the database keeps only its hash.
    return render(
        request, "auth/tokens.html", {"tokens": tokens, "new_token": token}, headers={"Cache-Control": "no-store"}
    )


@router.post("/{token_id}/revoke")
async def revoke_token(token_id: int, db: SessionDep, user: CurrentUser) -> Response:
    _allowed(user)
    await service.revoke_api_token(db, user_id=user.id, token_id=token_id)
    return RedirectResponse("/account/tokens", status_code=303)
