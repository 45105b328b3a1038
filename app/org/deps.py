"""The part of the organisation a manager or admin may see, as a dependency of every page that shows people."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from app.auth.deps import CurrentUser
from app.core.deps import SessionDep
from app.org import service as org_service
from app.org.scope import Scope


async def manager_scope(db: SessionDep, user: CurrentUser) -> Scope:
    """Managers and admins only; the scope every query of the page is limited to."""
    return await org_service.manager_scope_for(
        db, user=user, refusal="受講状況は管理者とマネージャーだけが見られます。"
    )


ScopeDep = Annotated[Scope, Depends(manager_scope)]
