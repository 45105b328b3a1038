"""Course settings that are not part of a content pack: how long a completion stays valid, and how long a lesson
must be open before 読了 counts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from app.auth.deps import AdminUser
from app.content import service as content_service
from app.core.deps import SessionDep
from app.core.errors import InvalidInput
from app.core.ids import parse_id

router = APIRouter(prefix="/admin/content")


@router.post("/courses/{course_id}/settings")
async def save_settings(
    course_id: int,
    db: SessionDep,
    admin: AdminUser,
    valid_months: Annotated[str, Form(max_length=5)] = "",
    min_reading_minutes: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    months = parse_id(valid_months) if valid_months.strip() else None
    if valid_months.strip() and not months:
        raise InvalidInput("有効期間は月数(1〜120 の数字)で入力してください。")
    text = min_reading_minutes.strip() or "0"  # empty: no minimum
    if not text.isdecimal():
        raise InvalidInput("最低閲覧時間は分数(0〜60 の数字)で入力してください。")
    # Ranges are checked by the services; an error in either rolls the request back, so neither setting changes.
    await content_service.set_valid_months(db, course_id=course_id, months=months, actor=admin)
    await content_service.set_min_reading(db, course_id=course_id, minutes=int(text), actor=admin)
    return RedirectResponse(f"/admin/content/courses/{course_id}?settings=1", status_code=303)
