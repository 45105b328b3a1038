"""The page behind a one-time password link: anyone holding a valid link sets the password once."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from app.auth import service as auth_service
from app.auth.deps import start_browser_session
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import InvalidInput, NotFound
from app.core.templating import render
from app.users import links

router = APIRouter(prefix="/password")
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@router.get("/{token}")
async def set_password_page(request: Request, token: str, db: SessionDep) -> Response:
    user = await links.user_for_link(db, token=token[:100])
    if user is None:
        return render(request, "users/password.html", {"invalid": True}, status_code=404, headers=NO_STORE)
    context = {"person": user, "min_length": auth_service.MIN_PASSWORD_LENGTH, "error": None}
    return render(request, "users/password.html", context, headers=NO_STORE)


@router.post("/{token}")
async def set_password(
    request: Request,
    token: str,
    db: SessionDep,
    settings: SettingsDep,
    password: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    person = await links.user_for_link(db, token=token[:100])
    if person is None:
        return render(request, "users/password.html", {"invalid": True}, status_code=404, headers=NO_STORE)
    context = {"person": person, "min_length": auth_service.MIN_PASSWORD_LENGTH}
    if password != confirm:
        return render(
            request,
            "users/password.html",
            {**context, "error": "確認のために入力したパスワードが一致しません。"},
            status_code=422,
            headers=NO_STORE,
        )
    try:
        user = await links.redeem_link(db, token=token[:100], password=password)
    except InvalidInput as error:
        return render(
            request, "users/password.html", {**context, "error": error.message}, status_code=422, headers=NO_STORE
        )
    except NotFound:
        return render(request, "users/password.html", {"invalid": True}, status_code=404, headers=NO_STORE)
    return await start_browser_session(request, db, settings, user=user, target="/my?welcome=1")
