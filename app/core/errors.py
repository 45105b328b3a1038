"""Domain errors: services raise these; one handler turns them into a page or an HTMX fragment."""

from __future__ import annotations


class AppError(Exception):
    status_code = 400
    message = "リクエストを処理できませんでした。"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class NotFound(AppError):
    status_code = 404
    message = "お探しのページは見つかりませんでした。"


class Forbidden(AppError):
    status_code = 403
    message = "このページを表示する権限がありません。"


class Conflict(AppError):
    status_code = 409
    message = "この操作は現在の状態では行えません。"


class InvalidInput(AppError):
    status_code = 422
    message = "入力内容に誤りがあります。"


class NotSignedIn(AppError):
    """The error handler answers it with a redirect to the sign-in page."""

    status_code = 401
    message = "サインインしてください。"
