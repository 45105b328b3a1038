import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import app
from app.core import config
from tests.conftest import MINI_COURSE

runner = CliRunner()


def test_validate_reports_success_and_counts() -> None:
    result = runner.invoke(app, ["content", "validate", str(MINI_COURSE)])
    assert result.exit_code == 0
    assert "✓" in result.output and "6 問" in result.output


def test_validate_lists_every_problem_and_fails(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(MINI_COURSE, pack)
    (pack / "lessons/02-responses.md").unlink()
    result = runner.invoke(app, ["content", "validate", str(pack)])
    assert result.exit_code == 1
    assert "course.yaml:9: lessons/02-responses.md が見つかりません" in result.output


def test_import_of_an_invalid_pack_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("LMS_DATABASE_URL", f"sqlite+aiosqlite:///{database}")
    config.get_settings.cache_clear()
    pack = tmp_path / "pack"
    shutil.copytree(MINI_COURSE, pack)
    (pack / "quizzes/01-basics.yaml").write_text("title: [", encoding="utf-8")
    try:
        result = runner.invoke(app, ["content", "import", str(pack)])
    finally:
        config.get_settings.cache_clear()
    assert result.exit_code == 1 and "何も取り込んでいません" in result.output
    assert not database.exists()  # validation failed before the database was even opened


def test_demo_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "p" * 40)
    config.get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["demo"])
    finally:
        config.get_settings.cache_clear()
    assert result.exit_code == 1 and "LMS_ENV=production" in result.output


def test_schema_command_writes_json_schema(tmp_path: Path) -> None:
    output = tmp_path / "schema.json"
    result = runner.invoke(app, ["content", "schema", "--output", str(output)])
    assert result.exit_code == 0
    assert '"CourseFile"' in output.read_text() and '"ScenarioQuestion"' in output.read_text()


def test_committed_json_schema_is_up_to_date(tmp_path: Path) -> None:
    output = tmp_path / "schema.json"
    runner.invoke(app, ["content", "schema", "--output", str(output)])
    committed = Path(__file__).resolve().parents[1] / "docs" / "content-schema.json"
    assert committed.read_text(encoding="utf-8") == output.read_text(encoding="utf-8"), "run `lms content schema`"


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("LMS_DATABASE_URL", url)
    config.get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield url
    config.get_settings.cache_clear()


def _scalar(url: str, sql: str) -> object:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///")) as connection:
        return connection.execute(sql).fetchone()[0]


def test_import_as_draft_then_publish_and_roll_back(cli_database: str, tmp_path: Path) -> None:
    assert runner.invoke(app, ["content", "import", str(MINI_COURSE)]).exit_code == 0
    edited = tmp_path / "edited"
    shutil.copytree(MINI_COURSE, edited)
    (edited / "lessons/02-responses.md").write_text(
        (edited / "lessons/02-responses.md").read_text(encoding="utf-8") + "\n追記です。\n", encoding="utf-8"
    )
    draft = runner.invoke(app, ["content", "import", str(edited), "--draft"])
    assert draft.exit_code == 0 and "第2版を下書きとして保存しました" in draft.output
    current = "SELECT v.number FROM courses c JOIN course_versions v ON v.id = c.current_version_id"
    assert _scalar(cli_database, current) == 1
    assert runner.invoke(app, ["content", "import", str(edited), "--publish"]).exit_code == 0
    assert _scalar(cli_database, current) == 3
    rolled = runner.invoke(app, ["content", "rollback", "mini-course", "1"])
    assert rolled.exit_code == 0 and _scalar(cli_database, current) == 1
    again = runner.invoke(app, ["content", "rollback", "mini-course", "1"])
    assert again.exit_code == 1 and "すでに公開中" in again.output
    assert (
        _scalar(cli_database, "SELECT count(*) FROM audit_events WHERE actor_name LIKE 'コマンドライン%'") == 6
    )  # 3 uploads, 2 publications, 1 rollback


def test_content_import_accepts_a_zip(cli_database: str, tmp_path: Path) -> None:
    archive = Path(
        shutil.make_archive(str(tmp_path / "mini"), "zip", root_dir=MINI_COURSE.parent, base_dir="mini-course")
    )
    result = runner.invoke(app, ["content", "import", str(archive)])
    assert result.exit_code == 0 and "第1版として取り込み、公開しました" in result.output


CSV = (
    "社員番号,氏名,メールアドレス,部署,役割,管理者\n"
    "E001,髙橋 一郎,,本社/営業部,,1\n"
    "E002,佐藤 花子,hanako@example.com,本社/営業部,,\n"
)


def test_users_import_dry_run_changes_nothing_then_applies_once(cli_database: str, tmp_path: Path) -> None:
    file = tmp_path / "employees.csv"
    file.write_bytes(CSV.encode("cp932"))
    dry = runner.invoke(app, ["users", "import", str(file), "--dry-run"])
    assert dry.exit_code == 0 and "作成 2" in dry.output and "何も変更していません" in dry.output
    assert _scalar(cli_database, "SELECT count(*) FROM users") == 0
    applied = runner.invoke(app, ["users", "import", str(file)])
    assert applied.exit_code == 0 and "✓ 取り込みました: 作成 2" in applied.output
    assert _scalar(cli_database, "SELECT display_name FROM users WHERE employee_number = 'E001'") == "髙橋 一郎"
    assert _scalar(cli_database, "SELECT role FROM users WHERE employee_number = 'E001'") == "manager"
    again = runner.invoke(app, ["users", "import", str(file)])
    assert again.exit_code == 0 and "変更はありません" in again.output


def test_users_import_with_errors_writes_nothing(cli_database: str, tmp_path: Path) -> None:
    file = tmp_path / "employees.csv"
    file.write_text(CSV + "E003,,bad-address,本社,,\n", encoding="utf-8")
    result = runner.invoke(app, ["users", "import", str(file)])
    assert result.exit_code == 1 and "4 行目" in result.output and "何も取り込んでいません" in result.output
    assert _scalar(cli_database, "SELECT count(*) FROM users") == 0


def test_create_admin_refuses_a_weak_password_and_creates_with_a_good_one(cli_database: str) -> None:
    weak = runner.invoke(
        app, ["users", "create-admin", "root@example.com", "--name", "管理者", "--password", "password123"]
    )
    assert weak.exit_code == 2 and _scalar(cli_database, "SELECT count(*) FROM users") == 0
    good = runner.invoke(
        app, ["users", "create-admin", "root@example.com", "--name", "管理者", "--password", "correct horse battery"]
    )
    assert good.exit_code == 0 and _scalar(cli_database, "SELECT role FROM users") == "admin"


def test_db_backup_and_restore_round_trip_and_restore_asks_for_confirmation(cli_database: str, tmp_path: Path) -> None:
    file = tmp_path / "employees.csv"
    file.write_text(CSV, encoding="utf-8")
    assert runner.invoke(app, ["users", "import", str(file)]).exit_code == 0
    backup_file = tmp_path / "lms.backup"
    saved = runner.invoke(app, ["db", "backup", str(backup_file)])
    assert saved.exit_code == 0 and backup_file.stat().st_size > 0
    _execute(cli_database, "DELETE FROM users")
    refused = runner.invoke(app, ["db", "restore", str(backup_file)])
    assert refused.exit_code == 2 and _scalar(cli_database, "SELECT count(*) FROM users") == 0
    restored = runner.invoke(app, ["db", "restore", str(backup_file), "--yes"])
    assert restored.exit_code == 0 and _scalar(cli_database, "SELECT count(*) FROM users") == 2


def _execute(url: str, sql: str) -> None:
    import sqlite3

    with sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///")) as connection:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute(sql)


def test_cycles_run_opens_the_recurring_cycles_that_are_due(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio
    from datetime import timedelta

    from sqlalchemy.ext.asyncio import create_async_engine

    from app.assignments.models import Assignment
    from app.core.clock import add_months
    from app.core.db import utcnow
    from app.org.models import Department

    url = f"sqlite+aiosqlite:///{tmp_path / 'cycles.sqlite3'}"
    monkeypatch.setenv("LMS_DATABASE_URL", url)
    config.get_settings.cache_clear()
    try:
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        assert runner.invoke(app, ["content", "import", str(MINI_COURSE)]).exit_code == 0

        async def arrange() -> None:
            engine = create_async_engine(url)
            async with engine.begin() as connection:
                department = (
                    await connection.execute(
                        Department.__table__.insert().values(name="本社", path="").returning(Department.id)
                    )
                ).scalar_one()
                opened = add_months(utcnow(), -12) - timedelta(days=1)
                await connection.execute(
                    Assignment.__table__.insert().values(
                        course_id=1,
                        department_id=department,
                        due_at=opened + timedelta(days=30),
                        opens_at=opened,
                        recur_months=12,
                        created_at=opened,
                    )
                )
            await engine.dispose()

        asyncio.run(arrange())
        first = runner.invoke(app, ["cycles", "run"])
        again = runner.invoke(app, ["cycles", "run"])
    finally:
        config.get_settings.cache_clear()
    assert first.exit_code == 0 and "1 件" in first.output, first.output
    assert again.exit_code == 0 and "0 件" in again.output


def test_import_with_reread_asks_readers_of_changed_lessons_again(cli_database: str, tmp_path: Path) -> None:
    assert runner.invoke(app, ["content", "import", str(MINI_COURSE)]).exit_code == 0
    edited = tmp_path / "edited"
    shutil.copytree(MINI_COURSE, edited)
    lesson = edited / "lessons/02-responses.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n法改正に合わせて追記しました。\n", encoding="utf-8")
    result = runner.invoke(app, ["content", "import", str(edited), "--reread", "--note", "法改正"])
    assert result.exit_code == 0 and "もう一度読むよう求めます: responses" in result.output
    assert _scalar(cli_database, "SELECT reread_slugs FROM course_versions WHERE number = 2") == '["responses"]'
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\n誤字を直しました。\n", encoding="utf-8")
    assert runner.invoke(app, ["content", "import", str(edited)]).exit_code == 0
    assert _scalar(cli_database, "SELECT reread_slugs FROM course_versions WHERE number = 3") == "[]"


def test_worker_once_runs_what_publishing_enqueued(cli_database: str) -> None:
    assert runner.invoke(app, ["content", "import", str(MINI_COURSE)]).exit_code == 0
    waiting = "SELECT count(*) FROM jobs WHERE kind = 'standing.recompute' AND state = 'queued'"
    assert _scalar(cli_database, waiting) == 1  # the import enqueued the standings' recompute, for any worker
    result = runner.invoke(app, ["worker", "--once", "--no-schedules"])
    assert result.exit_code == 0 and "ジョブを 1 件実行しました" in result.output
    assert _scalar(cli_database, "SELECT state FROM jobs WHERE kind = 'standing.recompute'") == "succeeded"
    assert runner.invoke(app, ["worker", "--once", "--no-schedules"]).output.strip() == "ジョブを 0 件実行しました。"
