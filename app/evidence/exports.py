"""The evidence pack as CSV (one row per record, for a spreadsheet or an auditor's tool) and as PDF (for a
binder): the same records, the same totals."""

from __future__ import annotations

from datetime import datetime

from app.certificates import codes
from app.certificates.service import Standing, standing_at
from app.core.csvfile import csv_bytes, csv_date, csv_datetime
from app.core.errors import InvalidInput
from app.core.templating import format_datetime
from app.evidence.service import EvidencePack, Person
from app.pdf.render import Section, Table, report_pdf

CSV_COLUMNS = ["氏名", "社員番号", "部署", "記録の種類", "項目", "版", "日時", "結果", "詳細"]
KIND_LABELS = {
    "assignments": "割り当て",
    "readings": "レッスンの読了",
    "attempts": "テストの受験",
    "acknowledgments": "方針・マニュアルの確認",
    "pending": "方針・マニュアルの未確認",
    "certificates": "修了証",
}


def _score(score: float | None) -> str:
    return "" if score is None else f"{score:g}点"


def _verdict(passed: bool | None, submitted_at: datetime | None) -> str:
    if submitted_at is None:
        return "受験中"
    return "合格" if passed else "不合格"


STANDING_LABELS = {Standing.VALID.value: "有効", Standing.EXPIRED.value: "期限切れ"}


Record = tuple[int, str, str, str, datetime | None, str, str]


def records(pack: EvidencePack) -> list[Record]:
    """Every record as (user id, kind label, item, version, when, result, details), in the pack's order; `when`
    is written by each format its own way (the PDF in words, the CSV as every export writes it)."""
    rows: list[Record] = []
    for a in pack.assignments:
        rows.append(
            (
                a.user_id,
                KIND_LABELS["assignments"],
                a.course,
                "",
                a.assigned_at,
                "修了" if a.completed_at else f"進捗 {a.percent}%",
                f"期限 {csv_date(a.due_at)}" if a.due_at else "期限なし",
            )
        )
    for r in pack.readings:
        rows.append(
            (
                r.user_id,
                KIND_LABELS["readings"],
                f"{r.course} / {r.lesson}",
                f"第{r.version_number}版" if r.version_number else "",
                r.read_at,
                "読了",
                f"このレッスンの学習時間(累計) {r.seconds_spent // 60}分",
            )
        )
    for t in pack.attempts:
        rows.append(
            (
                t.user_id,
                KIND_LABELS["attempts"],
                f"{t.course} / {t.test}",
                f"第{t.version_number}版",
                t.submitted_at or t.started_at,
                _verdict(t.passed, t.submitted_at),
                f"{t.attempt_number}回目 {_score(t.score)}".strip(),
            )
        )
    for k in pack.acknowledgments:
        rows.append(
            (
                k.user_id,
                KIND_LABELS["acknowledgments"],
                k.document,
                f"第{k.version_number}版",
                k.acknowledged_at,
                "内容を理解しました",
                k.title,
            )
        )
    for n in pack.pending:
        rows.append((n.user_id, KIND_LABELS["pending"], n.document, f"第{n.version_number}版", None, "未確認", n.title))
    for c in pack.certificates:
        rows.append(
            (
                c.user_id,
                KIND_LABELS["certificates"],
                c.course,
                f"第{c.version_number}版",
                c.completed_at,
                STANDING_LABELS[standing_at(c.expires_at, now=pack.generated_at)],
                f"確認番号 {codes.display(c.code)} 有効期限 " + (csv_date(c.expires_at) if c.expires_at else "なし"),
            )
        )
    return rows


def _people_by_id(pack: EvidencePack) -> dict[int, Person]:
    return {person.user_id: person for person in pack.people}


def pack_csv(pack: EvidencePack) -> bytes:
    people = _people_by_id(pack)
    rows = (
        [
            people[uid].name,
            people[uid].employee_number,
            people[uid].department,
            kind,
            item,
            version,
            csv_datetime(when),
            result,
            details,
        ]
        for uid, kind, item, version, when, result, details in records(pack)
    )
    return csv_bytes(CSV_COLUMNS, rows)


# About two minutes of one core: beyond that a PDF is no longer something anyone prints, and the CSV has it all.
MAX_PDF_RECORDS = 20_000


def pack_pdf(pack: EvidencePack, *, generated_by: str) -> bytes:
    count = sum(pack.totals().values()) - len(pack.people)
    if count > MAX_PDF_RECORDS:
        raise InvalidInput(
            f"記録が {count:,} 件あり、PDF にするには多すぎます(上限 {MAX_PDF_RECORDS:,} 件)。"
            "CSV をダウンロードするか、配下の部署ごとに PDF を作ってください。"
        )
    people = _people_by_id(pack)
    totals = pack.totals()
    summary = Section(
        heading="概要",
        paragraphs=[
            f"対象者 {totals['people']}名(在籍中 {sum(p.active for p in pack.people)}名)",
            f"割り当て {totals['assignments']}件 / うち修了 {sum(1 for a in pack.assignments if a.completed_at)}件",
            f"レッスンの読了 {totals['readings']}件 / テストの受験 {totals['attempts']}件"
            f"(合格 {sum(1 for t in pack.attempts if t.passed)}件)",
            f"方針・マニュアルの確認 {totals['acknowledgments']}件(未確認 {totals['pending']}件) / "
            f"修了証 {totals['certificates']}件",
        ],
        tables=[
            Table(
                ["氏名", "社員番号", "部署", "在籍"],
                [[p.name, p.employee_number or "", p.department, "在籍" if p.active else "無効"] for p in pack.people],
                widths=[3, 2, 3, 1],
            )
        ],
    )
    sections = [summary]
    grouped: dict[str, list[list[str]]] = {label: [] for label in KIND_LABELS.values()}
    for uid, kind, item, version, when, result, details in records(pack):
        grouped[kind].append([people[uid].name, item, version, format_datetime(when), result, details])
    for label, rows in grouped.items():
        sections.append(
            Section(
                heading=f"{label}({len(rows)}件)",
                paragraphs=[] if rows else ["記録はありません。"],
                tables=[Table(["氏名", "項目", "版", "日時", "結果", "詳細"], rows, widths=[2, 4, 1, 2, 1.5, 3])]
                if rows
                else [],
            )
        )
    meta = [f"対象: {pack.subject}", f"作成日時: {format_datetime(pack.generated_at)}", f"作成者: {generated_by}"]
    return report_pdf(
        title="カスタマーハラスメント対策 研修・周知の記録(エビデンスパック)", meta_lines=meta, sections=sections
    )
