"""The guideline checklist on the document page and the preview, drafts saved before the final guideline's fields
existed, and the new fields' text on its way from the wizard to the published policy."""

from __future__ import annotations

import httpx
import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.documents.guideline import MEASURE_KEYS
from app.documents.models import CompanyDocument, DocumentVersion
from app.documents.policy_steps import POLICY_STEPS
from tests.documents.conftest import _form_values, publish

# A policy draft as the wizard saved it before the final guideline (2026-11): no 留意事項, safeguards, desk support,
# other companies or fact-finding fields, and the old 「取引先との協力」 choice under 警察・弁護士との連携.
OLD_POLICY_DRAFT = {
    "company_name": "株式会社むかし商店",
    "issuer": "代表取締役 昔 太郎",
    "effective_date": "2026年4月1日",
    "stance": "当社は、お客様の声を大切にし、従業員を守ります。",
    "definition": "当社は、法律の定義に沿ってカスタマーハラスメントを判断します。",
    "behaviours": ["physical", "threats", "dogeza"],
    "behaviours_extra": [],
    "responses": ["warn", "end", "refuse_service", "leave", "ban", "record"],
    "response_limits": "",
    "escalation_first": "店長",
    "escalation_second": "本部 お客様相談室",
    "escalation_final": "経営会議",
    "desk_name": "人事部 相談窓口",
    "desk_contact": "内線 1234",
    "desk_hours": "",
    "desk_promises": ["privacy", "no_retaliation", "gray_cases", "everyone"],
    "desk_note": "",
    "care": ["not_alone", "rotate"],
    "care_note": "",
    "outside": ["call_110", "police_station", "partners"],
    "outside_note": "",
    "records": ["details", "review"],
    "records_note": "",
    "publish": ["staff", "website"],
    "customer_request": "ご理解とご協力をお願いいたします。",
    "review": "年1回",
    "department": "総務部",
    "inquiry": "",
}


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def checklist_rows(html: str) -> dict[str, tuple[str, str, str]]:
    """{measure key: (status, the badge's text, the link's href)} of the page's checklist, in page order."""
    rows = soup(html).select(".guideline-checklist tr[data-measure]")
    return {
        row["data-measure"]: (row["data-status"], row.select_one(".badge").get_text(), row.select_one("a")["href"])
        for row in rows
    }


async def save_step(client: httpx.AsyncClient, step: str, kind: str = "policy", **changes: object) -> httpx.Response:
    form = _form_values((await client.get(f"/admin/documents/{kind}/steps/{step}")).text)
    form.update(changes)
    return await client.post(f"/admin/documents/{kind}/steps/{step}", data={**form, "_go": "stay"})


@pytest.mark.parametrize("path", ["/admin/documents/policy", "/admin/documents/policy/preview"])
async def test_the_policy_pages_list_every_measure_with_its_status_and_step(
    admin_client: httpx.AsyncClient, path: str
) -> None:
    page = await admin_client.get(path)
    assert page.status_code == 200
    rows = checklist_rows(page.text)
    assert list(rows) == list(MEASURE_KEYS)
    assert rows["desk"] == ("check", "要確認", "/admin/documents/policy/steps/desk")
    assert {key for key, (status, _badge, _href) in rows.items() if status != "covered"} == {"desk"}
    assert rows["disability"] == ("covered", "対応済み", "/admin/documents/policy/steps/definition")
    assert rows["cooperation"][2] == "/admin/documents/policy/steps/outside"
    desk = soup(page.text).select_one("#measure-desk")
    assert "「連絡先」を入力してください。" in desk.get_text()
    groups = [th.get_text() for th in soup(page.text).select(".guideline-checklist th[scope=rowgroup]")]
    assert groups[0] == "1. 方針の明確化と周知・啓発" and groups[-1] == "7. 自社が「顧客等」の側に立つとき"


async def test_filling_the_desk_contact_covers_the_desk(admin_client: httpx.AsyncClient) -> None:
    assert (await save_step(admin_client, "desk", desk_contact="内線 1234")).status_code == 303
    rows = checklist_rows((await admin_client.get("/admin/documents/policy")).text)
    assert {status for status, _badge, _href in rows.values()} == {"covered"}
    assert (await save_step(admin_client, "desk", desk_promises=["privacy", "gray_cases"])).status_code == 303
    rows = checklist_rows((await admin_client.get("/admin/documents/policy/preview")).text)
    assert rows["no_retaliation"] == ("check", "要確認", "/admin/documents/policy/steps/desk")


@pytest.mark.parametrize("path", ["/admin/documents/manual", "/admin/documents/manual/preview"])
async def test_the_manual_pages_list_every_measure_and_send_the_policy_ones_to_the_policy(
    admin_client: httpx.AsyncClient, path: str
) -> None:
    rows = checklist_rows((await admin_client.get(path)).text)
    assert list(rows) == list(MEASURE_KEYS)
    assert rows["policy_written"] == ("elsewhere", "基本方針で対応", "/admin/documents/policy/steps/stance")
    assert rows["cooperation"] == ("elsewhere", "基本方針で対応", "/admin/documents/policy/steps/outside")
    assert rows["disability"] == ("covered", "対応済み", "/admin/documents/manual/steps/template")
    assert rows["deterrence"] == ("check", "要確認", "/admin/documents/manual/steps/contacts")


async def test_a_manual_text_without_the_considerations_is_flagged_until_the_template_is_reset(
    admin_client: httpx.AsyncClient,
) -> None:
    text = (await admin_client.get("/admin/documents/manual/steps/template")).text
    template = soup(text).select_one("textarea#template").get_text()
    start, end = template.index("## 2. 線を引く前に確かめること"), template.index("## 3. 対応の基本フロー")
    edited = template[:start] + template[end:]
    saved = await admin_client.post("/admin/documents/manual/steps/template", data={"template": edited, "_go": "stay"})
    assert saved.status_code == 303
    rows = checklist_rows((await admin_client.get("/admin/documents/manual/preview")).text)
    for key in ("consumer_rights", "disability", "communication", "service_duty"):
        assert rows[key] == ("check", "要確認", "/admin/documents/manual/steps/template"), key
    await admin_client.post("/admin/documents/manual/steps/template", data={"template": "", "_reset": "1"})
    rows = checklist_rows((await admin_client.get("/admin/documents/manual/preview")).text)
    assert rows["disability"][0] == "covered" and rows["service_duty"][0] == "covered"


async def test_an_old_draft_without_the_new_fields_loads_and_publishes(
    admin_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    db.add(CompanyDocument(kind="policy", draft=dict(OLD_POLICY_DRAFT)))
    await db.commit()

    for step in POLICY_STEPS:
        assert (await admin_client.get(f"/admin/documents/policy/steps/{step.key}")).status_code == 200, step.key
    outside = _form_values((await admin_client.get("/admin/documents/policy/steps/outside")).text)
    assert outside["outside"] == ["call_110", "police_station"]  # the retired choice is not offered any more
    assert outside["other_companies"] == ["own_staff", "cooperate"] and outside["cooperation_desk"]
    definition = _form_values((await admin_client.get("/admin/documents/policy/steps/definition")).text)
    assert definition["considerations"] == ["legitimate", "disability", "communication"]

    preview = await admin_client.get("/admin/documents/policy/preview")
    assert soup(preview.text).select(".error-list") == []
    rows = checklist_rows(preview.text)
    assert {status for status, _badge, _href in rows.values()} == {"covered"}

    # The step pages post back what they show: the old draft saves like a new one.
    assert (await save_step(admin_client, "outside")).status_code == 303
    response = await publish(admin_client, change_note="国の指針に沿って改定")
    assert response.status_code == 303, response.text
    version = await db.scalar(select(DocumentVersion))
    assert version is not None
    text = version.markdown
    assert "株式会社むかし商店" in text and "合理的配慮" in text and "法令の範囲内に限ります" in text
    assert text.count("他社から、当社の従業員の言動について") == 1
    assert "同様の行為をしないよう努め" not in text
    assert version.answers["other_companies"] == ["own_staff", "cooperate"]
    assert "partners" not in version.answers["outside"]


async def test_text_typed_into_the_new_fields_is_published_as_text(
    admin_client: httpx.AsyncClient, db: AsyncSession
) -> None:
    hostile_desk = "<script>alert(1)</script> [窓口](javascript:alert(1)) **人事部**"
    hostile_duty = "| 宿泊 | <img src=x onerror=alert(1)> {{ company_name }}"
    await save_step(
        admin_client, "stance", company_name="株式会社テスト", issuer="社長", effective_date="2026年12月1日"
    )
    assert (await save_step(admin_client, "outside", cooperation_desk=hostile_desk)).status_code == 303
    assert (await save_step(admin_client, "response", service_duty_note=hostile_duty)).status_code == 303
    preview = soup((await admin_client.get("/admin/documents/policy/preview")).text)
    article = preview.select_one("article.document-body")
    assert article.find_all(["script", "img", "a", "strong"]) == []
    assert len(article.find_all("table")) == 1  # the escalation table, not one made of the typed pipes
    items = [li.get_text() for li in article.find_all("li")]
    assert f"他社からの協力の求めを受ける窓口: {hostile_desk}" in items
    assert f"法令で提供が求められている当社のサービス: {hostile_duty}" in items
    assert (await publish(admin_client)).status_code == 303
    version = await db.scalar(select(DocumentVersion))
    assert version is not None and "<script>" not in version.html and "<img" not in version.html
    page = soup((await admin_client.get("/admin/documents/policy/versions/1")).text)
    assert hostile_desk in page.select_one("article").get_text()
