"""Turning errors into pages: one template for every status, a fragment for HTMX requests."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from app.core import logs
from app.core.deps import NotSignedIn
from app.core.errors import AppError
from app.core.templating import is_htmx, render

DEFAULT_MESSAGES = {
    400: "リクエストの内容が正しくありません。",
    403: "このページを表示する権限がありません。",
    404: "お探しのページは見つかりませんでした。",
    405: "この操作はできません。",
    422: "入力内容に誤りがあります。",
    500: "サーバーで問題が起きました。しばらくしてからもう一度お試しください。",
    503: "ただいまサービスを利用できません。しばらくしてからもう一度お試しください。",
}


def error_response(request: Request, status: int, message: str) -> Response:
    """The error as a page, an HTMX fragment or JSON, always with the request's correlation id (to quote to
    support, and to find the matching log lines)."""
    request_id = getattr(request.state, "request_id", None)
    if status == 403:
        user = getattr(request.state, "user", None)
        logs.get_logger().warning("access_denied", path=request.url.path, method=request.method,
                                  user_id=user.id if user else None)  # fmt: skip
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message, "request_id": request_id}, status_code=status)
    template = "errors/error.html"
    block = "message" if is_htmx(request) else None
    context = {"status": status, "message": message, "request_id": request_id}
    return render(request, template, context, status_code=status, block=block)


def redirect_to_sign_in(request: Request) -> Response:
    target = "/login?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def install(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        return redirect_to_sign_in(request)

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        return error_response(request, exc.status_code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = DEFAULT_MESSAGES.get(exc.status_code, str(exc.detail))
        return error_response(request, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, DEFAULT_MESSAGES[422])

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        if isinstance(exc, OperationalError | InterfaceError):
            request.app.state.logger.warning("database_unavailable", error=type(exc).__name__)
            return error_response(request, 503, DEFAULT_MESSAGES[503])
        request.app.state.logger.error("unhandled_error", path=request.url.path, exc_info=exc)
        return error_response(request, 500, DEFAULT_MESSAGES[500])
