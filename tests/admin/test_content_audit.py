"""Every content action writes exactly one audit entry, in Japanese, naming the admin; the audit log lists and
filters them. A refused action writes none."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.models import AuditEvent
from app.auth.models import User
from app.content.models import Course
from tests.admin.helpers import (
    edited,
    make_zip,
    pack_files,
    parse,
    revised,
    revised_lesson,
    text_of,
    upload,
    version_id_from,
)

Entry = tuple[str, int | None, str, str, int | None, str]


async def entries_after(db: AsyncSession, last_id: int) -> list[AuditEvent]:
    return list(await db.scalars(select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id)))


def described(event: AuditEvent) -> Entry:
    return (event.action, event.actor_id, event.actor_name, event.target_type, event.target_id, event.summary)


def audit_rows(response: httpx.Response) -> list[list[str]]:
    """Who, what and the summary of every row of the audit table (the date column aside)."""
    return [[text_of(cell) for cell in row.select("td")[1:]] for row in parse(response).select("table.audit tbody tr")]


async def test_each_content_action_writes_one_entry_and_the_log_lists_and_filters_them(
    admin_client: httpx.AsyncClient, db: AsyncSession, mini_course: Course, admin: User
) -> None:
    first_id = mini_course.current_version_id
    me = (admin.id, "管理 花子", "course_version")
    last = 0

    async def one_entry(expected_target: int | None, action: str, summary: str) -> AuditEvent:
        nonlocal last
        found = await entries_after(db, last)
        assert [described(event) for event in found] == [(action, *me, expected_target, summary)]
        last = found[0].id
        return found[0]

    data = make_zip(revised())
    second_id = version_id_from(await upload(admin_client, data, note="改訂"))
    uploaded = await one_entry(second_id, "content.upload", "mini-course 第2版(下書き)を ZIP から取り込み")
    assert uploaded.details["filename"] == "mini-course.zip" and uploaded.details["bytes"] == len(data)

    third_id = version_id_from(
        await admin_client.post(
            f"/admin/content/versions/{first_id}/lessons/responses/edit", data={"text": revised_lesson()}
        )
    )
    await one_entry(third_id, "content.edit", "mini-course 第3版(下書き): 「対応」を編集")

    quiz = edited(pack_files(), "quizzes/01-basics.yaml", "判断の2つの軸は?", "判断の軸は?")["quizzes/01-basics.yaml"]
    replaced = await admin_client.post(
        f"/admin/content/versions/{first_id}/replace",
        data={"path": "quizzes/01-basics.yaml"},
        files={"file": ("01-basics.yaml", quiz, "application/yaml")},
    )
    fourth_id = version_id_from(replaced)
    await one_entry(fourth_id, "content.upload", "mini-course 第4版(下書き): quizzes/01-basics.yaml を置き換え")

    assert (
        await admin_client.post(f"/admin/content/versions/{second_id}/publish", data={"reread": "true"})
    ).is_redirect
    published = await one_entry(second_id, "content.publish", "mini-course 第2版を公開(変更レッスンの再読を要求)")
    assert published.details == {"changed_lessons": ["responses"], "reread": ["responses"]}

    assert (await admin_client.post(f"/admin/content/versions/{first_id}/rollback")).is_redirect
    rolled_back = await one_entry(first_id, "content.rollback", "mini-course を第1版に戻す")
    assert rolled_back.details == {"from_version_id": second_id}

    assert (await admin_client.post(f"/admin/content/versions/{third_id}/discard")).is_redirect
    await one_entry(third_id, "content.discard", "mini-course 第3版(下書き)を削除")

    # refused actions leave no trace
    for action in (f"{second_id}/publish", f"{first_id}/rollback", f"{first_id}/discard"):
        assert (await admin_client.post(f"/admin/content/versions/{action}")).status_code == 409
    assert await entries_after(db, last) == []

    log = await admin_client.get("/admin/audit")
    assert log.status_code == 200
    assert audit_rows(log) == [
        ["管理 花子", "下書きの削除", "mini-course 第3版(下書き)を削除 版"],
        ["管理 花子", "以前の版に戻す", "mini-course を第1版に戻す 版"],
        ["管理 花子", "公開", "mini-course 第2版を公開(変更レッスンの再読を要求) 版"],
        ["管理 花子", "コンテンツの取り込み", "mini-course 第4版(下書き): quizzes/01-basics.yaml を置き換え 版"],
        ["管理 花子", "レッスンの編集", "mini-course 第3版(下書き): 「対応」を編集 版"],
        ["管理 花子", "コンテンツの取り込み", "mini-course 第2版(下書き)を ZIP から取り込み 版"],
    ]
    link = parse(log).select_one("table.audit tbody tr:nth-of-type(2) a")
    assert link["href"] == f"/admin/content/versions/{first_id}"

    for action, summaries in {
        "content.publish": ["mini-course 第2版を公開(変更レッスンの再読を要求) 版"],
        "content.rollback": ["mini-course を第1版に戻す 版"],
        "content.upload": [
            "mini-course 第4版(下書き): quizzes/01-basics.yaml を置き換え 版",
            "mini-course 第2版(下書き)を ZIP から取り込み 版",
        ],
    }.items():
        filtered = await admin_client.get("/admin/audit", params={"action": action})
        assert [row[2] for row in audit_rows(filtered)] == summaries, action
        assert parse(filtered).select_one(f"select#action option[value='{action}']").has_attr("selected")
    by_text = await admin_client.get("/admin/audit", params={"q": "第1版"})
    assert [row[1] for row in audit_rows(by_text)] == ["以前の版に戻す"]
