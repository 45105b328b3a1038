"""The admin's day, in headless Chromium: upload a revised course, preview, publish, roll back; import employees
from a Shift_JIS CSV; print a slip; the employee sets a password from it and signs in with their 社員番号."""

import re
import shutil
import zipfile
from pathlib import Path

import pytest

from tests.e2e.support import print_slips, shot

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def revised_pack(tmp_path: Path) -> Path:
    pack = tmp_path / "kasuhara-basics"
    shutil.copytree(ROOT / "content/kasuhara-basics", pack)
    lesson = pack / "lessons/01-what-is-kasuhara.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n\n改訂版で追加した一文です。\n", encoding="utf-8")
    archive = tmp_path / "revised.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(pack.rglob("*")):
            if path.is_file():
                zf.write(path, f"kasuhara-basics/{path.relative_to(pack).as_posix()}")
    return archive


def test_admin_publishes_a_revision_rolls_back_and_brings_in_staff(live_server: str, browser, tmp_path: Path) -> None:
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server}/login")
    page.get_by_label("メールアドレスまたは社員番号").fill("admin@example.com")
    page.get_by_label("パスワード").fill("demo-password")
    page.get_by_role("button", name="サインイン").click()

    page.get_by_role("link", name="コンテンツ管理").click()
    page.get_by_label(re.compile("ZIP ファイル")).set_input_files(revised_pack(tmp_path))
    page.get_by_label("変更の説明(任意)").fill("第1講に一文を追加")
    page.get_by_role("button", name="検査して下書きにする").first.click()
    page.get_by_text("検査に合格し、第2版の下書きとして保存しました").wait_for()
    shot(page, "admin-draft")
    assert "下書き" in page.locator("h1").inner_text()
    page.get_by_role("link", name="カスハラとは", exact=True).click()
    page.get_by_text("改訂版で追加した一文です。").wait_for()
    assert "下書き" in page.locator(".preview-banner").inner_text()
    page.go_back()

    page.get_by_role("button", name="第2版を公開する").click()
    page.get_by_text("第2版を公開しました。").wait_for()
    shot(page, "admin-history")
    rows = page.locator("table.history tbody tr")
    assert "公開中" in rows.nth(0).inner_text() and "管理 太郎" in rows.nth(0).inner_text()
    rows.nth(1).get_by_role("button", name="この版に戻す").click()
    page.get_by_text("第1版に戻しました。").wait_for()
    assert "公開中" in page.locator("table.history tbody tr").nth(1).inner_text()

    csv = tmp_path / "staff.csv"
    csv.write_bytes("社員番号,氏名,メールアドレス,部署\r\nS9001,髙橋 一美,,店舗事業部/新宿店\r\n".encode("cp932"))
    page.goto(f"{live_server}/admin/users/import/new")
    page.get_by_label(re.compile("CSV ファイル")).set_input_files(csv)
    page.get_by_role("button", name="内容を確認する").click()
    page.get_by_text("文字コード: Shift_JIS (CP932)").wait_for()
    assert "髙橋 一美" in page.locator("table.plan").inner_text()
    page.get_by_role("button", name="取り込む").click()
    page.get_by_text("取り込みました: 作成 1 人").wait_for()  # the job ran on the in-process worker

    page.goto(f"{live_server}/admin/users/slips/choose")
    slips = print_slips(page, "S9001")
    shot(slips, "admin-slips")
    assert slips.locator(".slip").count() == 1
    assert slips.locator(".slip svg path").count() == 1  # the QR code is drawn inline
    link = slips.locator(".slip-url").inner_text().strip()

    staff = browser.new_page(viewport={"width": 375, "height": 812})
    staff.goto(link)
    staff.get_by_label(re.compile("新しいパスワード")).fill("sakura no hana 2026")
    staff.get_by_label("確認のためもう一度").fill("sakura no hana 2026")
    staff.get_by_role("button", name="設定してサインイン").click()
    staff.wait_for_url(re.compile(r"/my"))
    staff.get_by_role("button", name="サインアウト").click()
    staff.get_by_label("メールアドレスまたは社員番号").fill("Ｓ９００１")  # full-width, as typed on a phone
    staff.get_by_label("パスワード").fill("sakura no hana 2026")
    staff.get_by_role("button", name="サインイン").click()
    staff.wait_for_url(re.compile(r"/my"))
    staff.goto(link)
    assert "このリンクは使えません" in staff.locator("main").inner_text()
    assert errors == []
