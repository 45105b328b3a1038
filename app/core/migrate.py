"""Alembic, driven from the `lms` CLI and the app: where the migrations are and whether a database is current."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
UPGRADE_COMMAND = "lms db upgrade"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s")
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url)
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def pending_migration_message(engine: AsyncEngine) -> str | None:
    """None when the database is at the latest migration, else a message naming the command to run."""
    async with engine.connect() as connection:
        current = await connection.run_sync(_current_revisions)
    if current == head_revisions():
        return None
    if not current:
        return f"データベースが初期化されていません。`{UPGRADE_COMMAND}` を実行してください。"
    return f"データベースのスキーマが古くなっています。`{UPGRADE_COMMAND}` を実行してください。"
