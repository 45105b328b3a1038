"""Starting the server: links follow the served address unless LMS_BASE_URL says otherwise, a mismatch is
named on the terminal, and log lines are readable there while JSON still goes to a file or a log shipper."""

import io
import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app import cli
from app.core import config
from app.core.logs import _Outputs

runner = CliRunner()


def test_a_loopback_base_url_on_another_port_is_named() -> None:
    [warning] = config.base_url_warnings("http://127.0.0.1:8000", "127.0.0.1", 8080)
    assert "ポート 8000" in warning and "ポート 8080" in warning and "LMS_BASE_URL=http://127.0.0.1:8080" in warning
    assert config.base_url_warnings("http://localhost:8000/", "127.0.0.1", 8000) == []


def test_a_public_name_is_a_proxy_and_not_second_guessed() -> None:
    assert config.base_url_warnings("https://lms.example.co.jp", "127.0.0.1", 8000) == []
    assert config.base_url_warnings("https://lms.example.co.jp/training", "0.0.0.0", 9000) == []


def test_serving_every_interface_with_a_loopback_link_says_phones_cannot_follow_it() -> None:
    warnings = config.base_url_warnings("http://127.0.0.1:8000", "0.0.0.0", 8000)
    assert len(warnings) == 1 and "スマートフォン" in warnings[0]
    assert config.served_base_url("0.0.0.0", 8000) == "http://127.0.0.1:8000"
    assert config.served_base_url("::1", 8001) == "http://[::1]:8001"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict:
    """`lms serve` up to uvicorn: what it would have run with, and the base URL the app would read."""
    seen: dict = {}

    def fake_run(*_args, **kwargs) -> None:
        seen.update(kwargs, base_url=config.get_settings().base_url)

    monkeypatch.setattr("uvicorn.run", fake_run)
    monkeypatch.delenv("LMS_BASE_URL", raising=False)
    monkeypatch.setenv("LMS_WORKER_IN_PROCESS", "true")  # serve sets both for the processes it starts:
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    config.get_settings.cache_clear()
    yield seen
    for name in ("LMS_BASE_URL", "LMS_WORKER_IN_PROCESS"):  # ... gone again before monkeypatch restores its own
        os.environ.pop(name, None)
    config.get_settings.cache_clear()


def test_without_lms_base_url_links_follow_the_served_port(served: dict) -> None:
    result = runner.invoke(cli.app, ["serve", "--port", "8765", "--no-worker"])
    assert result.exit_code == 0, result.output
    assert served["port"] == 8765 and served["base_url"] == "http://127.0.0.1:8765"
    assert "⚠" not in result.output


def test_a_configured_base_url_that_misses_the_server_is_warned_about(served: dict, monkeypatch) -> None:
    monkeypatch.setenv("LMS_BASE_URL", "http://127.0.0.1:8000")
    result = runner.invoke(cli.app, ["serve", "--port", "8765", "--no-worker"])
    assert result.exit_code == 0
    assert served["base_url"] == "http://127.0.0.1:8000"  # the setting is kept, only named
    assert "⚠ LMS_BASE_URL(http://127.0.0.1:8000)のポート 8000 と、起動するポート 8765 が違います" in result.output


def test_log_lines_are_readable_on_a_terminal_and_json_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = io.StringIO()
    monkeypatch.setattr(sys, "stderr", terminal)
    log_file = tmp_path / "logs" / "lms.jsonl"
    log_file.parent.mkdir()
    outputs = _Outputs(terminal_json=False, file=log_file)
    event = {"event": "sign_in", "user_id": 7, "level": "info", "timestamp": "2026-12-04T10:00:00Z"}
    outputs.info(event)
    outputs.warning({**event, "event": "sign_in_failed", "level": "warning"})
    shown = terminal.getvalue().splitlines()
    assert len(shown) == 2 and "sign_in" in shown[0] and "user_id=7" in shown[0]
    with pytest.raises(json.JSONDecodeError):
        json.loads(shown[0])
    stored = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    assert [e["event"] for e in stored] == ["sign_in", "sign_in_failed"] and stored[0]["user_id"] == 7

    machine = io.StringIO()
    monkeypatch.setattr(sys, "stderr", machine)
    _Outputs(terminal_json=True, file=None).info(event)
    assert json.loads(machine.getvalue()) == event
