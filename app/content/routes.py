from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from app.content import service
from app.core.deps import CurrentUser, SessionDep

router = APIRouter()


@router.get("/assets/{version_id}/{path:path}")
async def asset(version_id: int, path: str, db: SessionDep, user: CurrentUser) -> Response:
    item = await service.get_asset(db, version_id=version_id, path=path)
    headers = {"Cache-Control": "private, max-age=86400, immutable"}
    if item.content_type == "image/svg+xml":
        # An SVG opened directly must not run anything, even if one slipped past import checks.
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return Response(item.data, media_type=item.content_type, headers=headers)
