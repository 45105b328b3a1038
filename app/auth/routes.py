from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app.auth import service, throttle
from app.auth.deps import SESSION_COOKIE, OptionalUser, session_token, start_browser_session
from app.core import logs
from app.core.db import utcnow
from app.core.deps import SessionDep, SettingsDep
from app.core.templating import render

router = APIRouter()
FAILED_SIGN_IN = "メールアドレス(社員番号)またはパスワードが正しくありません。"
THROTTLED = "サインインの失敗が続いたため、しばらく受け付けません。{}分ほど待ってからもう一度お試しください。"


def safe_next(target: str | None) -> str:
    """Only same-site paths: a crafted ?next= must not send the learner to another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/my"


@router.get("/login")
async def login_page(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"next": safe_next(next), "email": ""})


@router.post("/login")
async def login(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/my",
) -> Response:
    address = request.client.host if request.client else None
    now = utcnow()
    if email and await throttle.is_throttled(db, login=email, address=address, settings=settings, now=now):
        # Refused before the password is even checked; worded the same whether or not the account exists.
        logs.get_logger().warning("sign_in_throttled", address=address)
        context = {"next": safe_next(next), "email": email, "error": THROTTLED.format(settings.sign_in_window_minutes)}
        return render(
            request,
            "auth/login.html",
            context,
            status_code=429,
            headers={"Retry-After": str(settings.sign_in_window_minutes * 60)},
        )
    user = await service.authenticate(db, login=email, password=password) if email and password else None
    if user is None:
        if email and password:
            await throttle.record_failure(db, login=email, address=address, settings=settings, now=now)
        # What was typed is never logged: a password typed into the login box would end up in the logs.
        logs.get_logger().info("sign_in_failed", address=address)
        context = {"next": safe_next(next), "email": email, "error": FAILED_SIGN_IN}
        return render(request, "auth/login.html", context, status_code=401)
    await throttle.clear_account(db, login=email)
    logs.get_logger().info("sign_in", user_id=user.id, address=address)
    return await start_browser_session(request, db, settings, user=user, target=safe_next(next))


@router.post("/logout")
async def logout(request: Request, db: SessionDep, settings: SettingsDep) -> Response:
    token = session_token(request, settings)
    if token:
        await service.end_session(db, token=token)
    response = RedirectResponse("/login?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
