from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from app.auth.deps import CurrentUser
from app.auth.models import Role
from app.content import service
from app.core.deps import SessionDep

router = APIRouter()


@router.get("/assets/{version_id}/{path:path}")
async def asset(version_id: int, path: str, db: SessionDep, user: CurrentUser) -> Response:
    item, published = await service.get_asset(
        db, version_id=version_id, path=path, include_drafts=user.role == Role.ADMIN
    )
    # A published version never changes, so its files may be cached for good. A draft can be discarded and, on
    # SQLite, its id reused by the next draft: never cache those.
    cache = "private, max-age=86400, immutable" if published else "private, no-store"
    headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    if item.content_type == "image/svg+xml":
        # An SVG opened directly must not run anything, even if one slipped past the sanitiser.
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    elif item.content_type == "application/pdf":
        filename = quote(path.rsplit("/", 1)[-1])
        headers["Content-Disposition"] = f"inline; filename*=UTF-8''{filename}"
    return Response(item.data, media_type=item.content_type, headers=headers)
