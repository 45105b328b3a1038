import os
import re
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core import config
from app.core.config import Environment, Settings


def test_production_refuses_to_start_without_a_secret_key() -> None:
    with pytest.raises(ValidationError, match="LMS_SECRET_KEY"):
        Settings(env=Environment.PRODUCTION, secret_key="")
    with pytest.raises(ValidationError, match="LMS_SECRET_KEY"):
        Settings(env=Environment.PRODUCTION, secret_key="short")
    assert Settings(env=Environment.PRODUCTION, secret_key="k" * 40).secret_key == "k" * 40


def test_development_key_is_generated_once_and_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "VAR_DIR", tmp_path / "var")
    settings = Settings(env=Environment.DEVELOPMENT, secret_key="")
    first = settings.resolved_secret_key()
    assert first == settings.resolved_secret_key() and len(first) >= 32
    mode = stat.S_IMODE(os.stat(tmp_path / "var" / "secret_key").st_mode)
    assert mode == 0o600


def test_settings_come_from_lms_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMS_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    monkeypatch.setenv("LMS_SESSION_HOURS", "3")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://u@h/db" and settings.session_hours == 3


def test_every_setting_is_documented_in_the_readme(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(LMS_[A-Z_]+)`", readme, flags=re.MULTILINE))
    expected = {f"LMS_{name.upper()}" for name in Settings.model_fields}
    assert documented == expected
