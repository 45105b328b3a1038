"""Cross-site request refusal, security headers, and the guard against an un-migrated database."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'",
    ),
]


def is_cross_site(method: str, headers: dict[str, str], host: str) -> bool:
    """A state-changing request that a browser says came from another site (Sec-Fetch-Site, then Origin)."""
    if method in SAFE_METHODS:
        return False
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None:
        return False  # not a browser form or fetch: nothing a third-party page could forge
    return origin == "null" or urlsplit(origin).netloc != host


def request_headers(scope: Scope) -> dict[str, str]:
    """An ASGI request's headers as text (names arrive lower-cased per the ASGI spec)."""
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


class CrossSiteProtection:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = request_headers(scope)
        if is_cross_site(scope["method"], headers, headers.get("host", "")):
            body = "他のサイトからの送信は受け付けません。ページを開き直してから、もう一度お試しください。".encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in existing]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)
