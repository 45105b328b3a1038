"""The audit log: who did what, and when. Recorded inside the action's own transaction, so an action that
rolls back leaves no record and a recorded action cannot be lost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.models import User
from app.core import logs

CLI_ACTOR = "コマンドライン (lms)"

ACTION_LABELS = {
    "content.upload": "コンテンツの取り込み",
    "content.edit": "レッスンの編集",
    "content.publish": "公開",
    "content.rollback": "以前の版に戻す",
    "content.discard": "下書きの削除",
    "users.import": "社員 CSV の取り込み",
    "user.create": "ユーザーの作成",
    "user.update": "ユーザーの変更",
    "user.role_change": "役割の変更",
    "user.deactivate": "無効化",
    "user.reactivate": "再有効化",
    "user.password_link": "パスワード設定リンクの発行",
    "user.password_slips": "パスワード設定票の作成",
    "document.publish": "方針・マニュアルの公開",
    "document.remind": "方針・マニュアルの確認依頼",
    "course.settings": "コース設定の変更",
}


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor_id: int | None = None
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def record(
    session: AsyncSession,
    *,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: int | None,
    summary: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one entry; `actor` None means the command line."""
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor_name=actor.display_name if actor else CLI_ACTOR,
        action=action,
        target_type=target_type,
        target_id=target_id,
        summary=summary,
        details=details or {},
    )
    session.add(event)
    await session.flush()
    logs.get_logger().info(
        "admin_action",
        action=action,
        actor_id=event.actor_id,
        target_type=target_type,
        target_id=target_id,
        audit_id=event.id,
    )
    return event


def _filtered(query: Any, audit_filter: AuditFilter) -> Any:
    if audit_filter.action:
        query = query.where(AuditEvent.action == audit_filter.action)
    if audit_filter.actor_id:
        query = query.where(AuditEvent.actor_id == audit_filter.actor_id)
    if audit_filter.text:
        query = query.where(AuditEvent.summary.contains(audit_filter.text, autoescape=True))
    if audit_filter.since:
        query = query.where(AuditEvent.at >= audit_filter.since)
    if audit_filter.until:
        query = query.where(AuditEvent.at < audit_filter.until)
    return query


async def list_events(
    session: AsyncSession, *, audit_filter: AuditFilter, page: int, per_page: int = 50
) -> tuple[list[AuditEvent], int]:
    """One page of entries, newest first, and how many match in all."""
    total = await session.scalar(_filtered(select(func.count(AuditEvent.id)), audit_filter)) or 0
    events = await session.scalars(
        _filtered(select(AuditEvent), audit_filter)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(events), total


async def actors(session: AsyncSession) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(AuditEvent.actor_id, func.max(AuditEvent.actor_name))
        .where(AuditEvent.actor_id.is_not(None))
        .group_by(AuditEvent.actor_id)
        .order_by(func.max(AuditEvent.actor_name))
    )
    return [(int(actor_id), str(name)) for actor_id, name in rows.all()]


async def events_for(
    session: AsyncSession, *, target_type: str, target_ids: list[int], actions: tuple[str, ...], limit: int = 100
) -> list[AuditEvent]:
    """The latest entries about some targets (e.g. the publications and rollbacks of one course's versions)."""
    if not target_ids:
        return []
    events = await session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.target_type == target_type, AuditEvent.target_id.in_(target_ids), AuditEvent.action.in_(actions)
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(events)
