"""One typed Settings object, read from LMS_* environment variables (and a .env file if present)."""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

VAR_DIR = Path("var")


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"
    TEST = "test"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LMS_", env_file=".env", extra="ignore")

    env: Environment = Field(default=Environment.DEVELOPMENT, description="development, production or test")
    database_url: str = Field(
        default=f"sqlite+aiosqlite:///./{VAR_DIR}/lms.sqlite3",
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db",
    )
    secret_key: str = Field(default="", description="signs session cookies; required in production")
    session_hours: int = Field(default=12, ge=1, description="idle time after which a sign-in expires")
    session_absolute_hours: int = Field(
        default=168, ge=1, description="time after which a sign-in expires however active it is"
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="force the Secure cookie flag; by default set when the request came over https",
    )
    db_pool_size: int = Field(default=10, ge=1, description="PostgreSQL connections per worker")
    locale: str = Field(default="ja", description="UI language (a catalog under app/locale)")
    trusted_hosts: str = Field(default="*", description="comma-separated Host names the app answers to")
    log_level: str = Field(default="info", description="debug, info, warning or error")
    log_format: Literal["auto", "human", "json"] = Field(
        default="auto", description="auto: readable lines on a terminal, JSON lines otherwise (log shippers)"
    )
    log_file: Path | None = Field(default=None, description="also append every event to this file as JSON lines")
    base_url: str = Field(default="http://127.0.0.1:8000", description="public address, used for links in mails")
    smtp_host: str = Field(default="", description="mail server; empty keeps mail in the outbox only")
    smtp_port: int = Field(default=587, description="mail server port")
    smtp_user: str = Field(default="", description="mail server user name")
    smtp_password: str = Field(default="", description="mail server password")
    smtp_starttls: bool = Field(default=True, description="upgrade the SMTP connection with STARTTLS")
    mail_from: str = Field(default="lms@example.com", description="sender address of mails")
    sign_in_max_failures_per_account: int = Field(
        default=5, ge=1, description="failed sign-ins for one account within the window before it is locked"
    )
    sign_in_max_failures_per_address: int = Field(
        default=30, ge=1, description="failed sign-ins from one client address within the window before it is locked"
    )
    cycle_check_minutes: int = Field(
        default=60,
        ge=0,
        le=1440,
        description="how often the workers open due recurring training cycles (minutes; 0: only `lms cycles run`)",
    )
    worker_in_process: bool = Field(
        default=True, description="run a job worker inside the web server (`lms worker` runs them on their own)"
    )
    worker_concurrency: int = Field(default=4, ge=1, le=64, description="jobs one worker runs at the same time")
    job_lease_seconds: int = Field(
        default=60, ge=2, le=3600, description="how long a claimed job stays a worker's without a renewal (seconds)"
    )
    job_shutdown_seconds: int = Field(
        default=20,
        ge=0,
        le=3600,
        description="on shutdown, how long running jobs may finish before they are given back",
    )
    job_sqlite_pause_ms: int = Field(
        default=150,
        ge=0,
        le=5000,
        description="SQLite only: a job's pause after each chunk, so waiting requests get the single write lock",
    )
    daily_digest: bool = Field(default=True, description="mail managers a daily summary when someone is overdue")
    sign_in_window_minutes: int = Field(default=15, ge=1, description="how long failed sign-ins are counted (minutes)")

    @model_validator(mode="after")
    def _secret_key_required_in_production(self) -> Settings:
        if self.env is Environment.PRODUCTION and len(self.secret_key) < 32:
            raise ValueError(
                "LMS_SECRET_KEY must be set to a random string of at least 32 characters when LMS_ENV=production"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The configured key, or in development one generated once and kept in ./var with mode 0600."""
        if self.secret_key:
            return self.secret_key
        key_file = VAR_DIR / "secret_key"
        if key_file.exists():
            return key_file.read_text().strip()
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
ALL_INTERFACES = {"0.0.0.0", "::", "[::]"}


def served_base_url(host: str, port: int) -> str:
    """The address a server bound to host:port answers on, as links should carry it."""
    shown = "127.0.0.1" if host in ALL_INTERFACES else (f"[{host}]" if ":" in host and "[" not in host else host)
    return f"http://{shown}:{port}"


def base_url_warnings(base_url: str, host: str, port: int) -> list[str]:
    """Why links built from LMS_BASE_URL (certificate checks, slip QR codes, mails) would not reach a server
    started on host:port. A public name is taken as a proxy in front and not second-guessed."""
    parsed = urlsplit(base_url)
    link_host = (parsed.hostname or "").lower()
    link_port = parsed.port or (443 if parsed.scheme == "https" else 80)
    warnings: list[str] = []
    if link_host in LOOPBACK_HOSTS or link_host == host.lower():
        if link_port != port:
            warnings.append(
                f"LMS_BASE_URL({base_url})のポート {link_port} と、起動するポート {port} が違います。"
                "修了証の確認リンク・設定票の QR コード・メールのリンクが、このサーバーに届きません。"
                f"LMS_BASE_URL={served_base_url(host, port)} を設定してください。"
            )
        if link_host in LOOPBACK_HOSTS and host in ALL_INTERFACES:
            warnings.append(
                f"LMS_BASE_URL({base_url})はこのコンピューターの中だけのアドレスです。"
                "ほかの端末(スマートフォンで QR コードを読むなど)から開くには、"
                "LMS_BASE_URL にこのコンピューターのネットワーク上のアドレスを設定してください。"
            )
    return warnings
