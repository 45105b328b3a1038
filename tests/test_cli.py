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
