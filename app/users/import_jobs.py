"""Applying a previewed HR CSV as a job, so 20,000 rows neither time out a request nor hold the database's write
lock for long: the admin confirms the preview in the request (its digest must still match), the job applies it
in chunks. Each chunk re-plans the file against the users as they are now, so whatever earlier chunks stored
drops out of the plan and a retried job simply continues: nothing is applied twice, nothing is skipped. Order:
e-mail moves first (all together, so addresses can change hands), then new people, then other updates, then
leavers, the audit record and "applied" last, in one transaction."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.jobs import queue
from app.jobs import service as jobs_service
from app.jobs.context import JobContext, PermanentJobError
from app.jobs.registry import JobKind
from app.users import csv_reader, import_apply, import_plan
from app.users.models import UserImport

CHUNK_SIZE = 500


def job_key(import_id: int) -> str:
    return f"user-import:{import_id}"


async def start_apply(session: AsyncSession, *, actor: User, import_id: int, digest: str) -> int:
    """Check the preview is still current, then enqueue its application once (a second click finds the same
    job); returns the job's id."""
    upload, plan = await import_apply.check_upload(session, actor=actor, import_id=import_id, digest=digest)
    size = len(plan.creates) + len(plan.updates) + len(plan.deactivations)
    await queue.enqueue(
        session,
        APPLY_IMPORT,
        {"import_id": upload.id, "digest": digest, "actor_id": actor.id},
        key=job_key(upload.id),
        subject=f"社員 CSV の取り込み: {upload.filename}",
        created_by_id=actor.id,
        total=size,
    )
    job = await jobs_service.job_by_key(session, key=job_key(upload.id))
    assert job is not None
    return job.id


def next_part(plan: import_plan.ImportPlan) -> import_plan.ImportPlan | None:
    """The next chunk of what is left to do, or None when nothing is."""
    moves = [change for change in plan.updates if any(field.field == "email" for field in change.changes)]
    if moves:
        return replace(plan, creates=[], updates=moves, deactivations=[])
    if plan.creates:
        return replace(plan, creates=plan.creates[:CHUNK_SIZE], updates=[], deactivations=[])
    if plan.updates:
        return replace(plan, creates=[], updates=plan.updates[:CHUNK_SIZE], deactivations=[])
    if plan.deactivations:
        return replace(plan, creates=[], updates=[])
    return None


def _size(plan: import_plan.ImportPlan) -> int:
    return len(plan.creates) + len(plan.updates) + len(plan.deactivations)


async def apply_import(context: JobContext) -> dict[str, Any]:
    payload = context.payload
    totals: dict[str, Any] | None = context.checkpoint.get("totals")
    parsed: csv_reader.ParsedCsv | None = None
    left_before: int | None = None
    while True:
        async with context.transaction() as session:
            upload = await session.get(UserImport, int(payload["import_id"]))
            if upload is None:
                raise PermanentJobError("取り込む CSV が見つかりません(削除されました)。")
            if upload.applied_at is not None:
                return totals or {}
            actor = await session.get(User, int(payload["actor_id"]))
            parsed = parsed or csv_reader.parse_employee_csv(upload.data)
            plan = import_plan.plan_import(
                parsed,
                await import_apply.snapshot(session),
                deactivate_missing=upload.deactivate_missing,
                acting_user_id=actor.id if actor else None,
            )
            if not plan.ok:
                raise PermanentJobError(f"CSV に {len(plan.errors)} 件の問題があります。確認からやり直してください。")
            if totals is None:
                if plan.digest() != payload["digest"]:
                    raise PermanentJobError(
                        "確認した後にユーザー情報が変わったため、内容が変わりました。もう一度確認してください。"
                    )
                totals = {
                    "creates": len(plan.creates),
                    "updates": len(plan.updates),
                    "deactivated": [change.employee_number for change in plan.deactivations],
                    "all": _size(plan),
                }
                await context.step(session, checkpoint={"totals": totals}, total=totals["all"], done=0)
            if left_before is not None and _size(plan) >= left_before:
                raise PermanentJobError(
                    "取り込みが先に進みません(同じ変更が繰り返し残ります)。管理者に連絡してください。"
                )
            left_before = _size(plan)
            part = next_part(plan)
            if part is None:
                await import_apply.record_import(
                    session,
                    actor=actor,
                    source=upload.filename,
                    digest=payload["digest"],
                    creates=totals["creates"],
                    updates=totals["updates"],
                    deactivated=totals["deactivated"],
                )
                await import_apply.mark_applied(session, upload=upload)
                return totals
            await import_apply.apply_changes(session, plan=part)
            await context.step(session, done=totals["all"] - _size(plan) + _size(part))


APPLY_IMPORT = JobKind(
    "users.apply_import", apply_import, max_attempts=5, timeout_seconds=3600, label="社員 CSV の取り込み"
)
