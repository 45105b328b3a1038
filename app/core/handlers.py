"""Turning errors into pages: one template for every status, a fragment for HTMX requests."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from app.core import logs
from app.core.errors import AppError, NotSignedIn
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


# A database that cannot serve right now (app.core.db raises asyncpg's "refused", "shutting down", "starting up" and
# "connection lost" as OperationalError) or no free connection in the pool: "try again later", not a bug.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def error_response(request: Request, status: int, message: str) -> Response:
    """The error as a page, an HTMX fragment or JSON, always with the request's correlation id (to quote to
    support, and to find the matching log lines)."""
    request_id = getattr(request.state, "request_id", None)
    user = _user_as_loaded(request)
    if status == 403:
        logs.get_logger().warning(
            "access_denied", path=request.url.path, method=request.method, user_id=user.id if user else None
        )
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message, "request_id": request_id}, status_code=status)
    template = "errors/error.html"
    block = "message" if is_htmx(request) else None
    context = {"status": status, "message": message, "request_id": request_id, "user": user}
    return render(request, template, context, status_code=status, block=block)


def _user_as_loaded(request: Request) -> Any:
    """The signed-in user for the page header, only if it can be shown without the database: after a failed flush
    or commit (a database that just went away) its attributes are expired, and reading them would query again."""
    user = getattr(request.state, "user", None)
    if user is None or sa_inspect(user).expired_attributes:
        return None
    return user


def redirect_to_sign_in(request: Request) -> Response:
    target = "/login?next=" + quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 with the usual page; the log names the error types only (their text may quote SQL and parameters)."""
    cause = getattr(exc, "orig", None)
    cause = getattr(cause, "orig", None) or cause  # asyncpg's own error under the DB-API one, when there is one
    request.app.state.logger.warning(
        "database_unavailable",
        path=request.url.path,
        error=type(exc).__name__,
        cause=type(cause).__name__ if cause is not None else None,
    )
    return error_response(request, 503, DEFAULT_MESSAGES[503])


# Values the database cannot store or compare, whatever the route: a NUL character or text PostgreSQL cannot
# encode, a number beyond the column's range (asyncpg refuses it, SQLite's driver raises OverflowError).
UNSTORABLE_SQLSTATES = {"22021", "22P05", "22003"}


def is_unstorable_input(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OverflowError):
            return True
        orig = getattr(seen, "orig", None)
        for error in (seen, orig, getattr(orig, "__cause__", None)):
            if getattr(error, "sqlstate", None) in UNSTORABLE_SQLSTATES or type(error).__name__ == "DataError":
                return True
        seen = seen.__cause__ or seen.__context__
    return False


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

    # Registered per class, so they are answered where route errors are (a catch-all Exception handler runs in
    # the outermost middleware, which re-raises after answering: one server traceback per request in an outage).
    for error_class in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error_class, database_unavailable)

    async def unstorable_or_unexpected(request: Request, exc: Exception) -> Response:
        if is_unstorable_input(exc):
            request.app.state.logger.info("unstorable_input", path=request.url.path, error=type(exc).__name__)
            return error_response(request, 422, DEFAULT_MESSAGES[422])
        return await _unexpected(request, exc)

    for error_class in (DBAPIError, OverflowError):
        app.add_exception_handler(error_class, unstorable_or_unexpected)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        if isinstance(exc, DATABASE_UNAVAILABLE):  # raised outside the routes, e.g. by the schema check middleware
            return await database_unavailable(request, exc)
        request.app.state.logger.error("unhandled_error", path=request.url.path, exc_info=exc)
        return error_response(request, 500, DEFAULT_MESSAGES[500])
