"""Backup and restore with each database's own tools: SQLite's online backup API (consistent while the app runs,
WAL included) and PostgreSQL's pg_dump / pg_restore (custom format, restored in one transaction)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from app.core import migrate


class BackupError(Exception):
    """What went wrong, in Japanese, for the person running `lms db backup|restore`."""


def _sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None


def _libpq_url(url: str) -> str:
    """The URL as pg_dump understands it (no async driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} が見つかりません。PostgreSQL のクライアント(Debian: postgresql-client)を入れてください。"
        )
    return path


def backup(url: str, target: Path) -> None:
    """Write a consistent copy of the database to `target` (an SQLite file, or a pg_dump custom-format file)."""
    sqlite_file = _sqlite_path(url)
    if sqlite_file is not None:
        if not sqlite_file.exists():
            raise BackupError(f"データベース {sqlite_file} がありません。")
        with sqlite3.connect(sqlite_file) as source, sqlite3.connect(target) as copy:
            source.backup(copy)
        return
    result = subprocess.run(
        [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={target}", f"--dbname={_libpq_url(url)}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_dump が失敗しました: {result.stderr.strip()}")


def restore(url: str, source: Path) -> None:
    """Replace the database's contents with a backup, all or nothing, then bring it to the latest migration."""
    if not source.is_file():
        raise BackupError(f"バックアップ {source} がありません。")
    sqlite_file = _sqlite_path(url)
    if sqlite_file is not None:
        try:
            with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as backup_db:
                backup_db.execute("SELECT version_num FROM alembic_version").fetchone()
                with sqlite3.connect(sqlite_file) as live:
                    backup_db.backup(live)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source} はこのアプリの SQLite バックアップではありません({error})。") from error
    else:
        result = subprocess.run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={_libpq_url(url)}",
                str(source),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_restore が失敗しました(何も変更していません): {result.stderr.strip()}")
    migrate.upgrade(url)
