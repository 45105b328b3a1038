"""The `lms` command: database, content, demo data and the web server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Environment, get_settings
from app.core.db import make_engine, make_sessionmaker

app = typer.Typer(help="カスハラ対策研修 LMS の管理コマンド", no_args_is_help=True)
db_app = typer.Typer(help="データベース", no_args_is_help=True)
content_app = typer.Typer(help="コースパックの検証と取り込み", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(content_app, name="content")
bench_app = typer.Typer(help="ベンチマーク用のデータ", no_args_is_help=True)
app.add_typer(bench_app, name="bench")

T = TypeVar("T")


def _run_in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one unit of work in a transaction: all of it is stored, or none of it."""

    import app.models  # noqa: F401 - every model registered, so foreign keys between domains resolve

    async def main() -> T:
        engine = make_engine(get_settings())
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(main())


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from app.core import migrate

    migrate.upgrade(get_settings().database_url, revision)
    typer.echo("データベースを最新の状態にしました。")


@db_app.command("analyze")
def db_analyze() -> None:
    """Refresh the query planner's statistics (after a bulk import; PostgreSQL's autovacuum also does it)."""
    from sqlalchemy import text

    _run_in_session(lambda s: s.execute(text("ANALYZE")))
    typer.echo("統計情報を更新しました。")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION ("base" removes every table)."""
    from app.core import migrate

    migrate.downgrade(get_settings().database_url, revision)


@content_app.command("validate")
def content_validate(paths: list[Path]) -> None:
    """Check one or more packs without writing anything."""
    from app.content.errors import PackInvalid
    from app.content.pack import load_pack

    failed = False
    for path in paths:
        try:
            pack = load_pack(path)
        except PackInvalid as error:
            failed = True
            typer.echo(f"✗ {path}: {error.message}", err=True)
            for problem in error.errors:
                typer.echo(f"  {path}/{problem}", err=True)
            continue
        questions = sum(len(lesson.quiz.questions) for lesson in pack.lessons if lesson.quiz)
        typer.echo(f"✓ {path}: {len(pack.lessons)} ページ、{questions} 問。問題は見つかりませんでした。")
    if failed:
        raise typer.Exit(1)


@content_app.command("import")
def content_import(
    path: Path,
    if_changed: Annotated[bool, typer.Option(help="skip when the pack equals the latest version")] = False,
) -> None:
    """Validate a pack completely, then store it as the course's new current version."""
    from app.content import service
    from app.content.errors import PackInvalid
    from app.content.pack import load_pack

    try:
        pack = load_pack(path)
    except PackInvalid as error:
        typer.echo(f"✗ {path}: {error.message} 何も取り込んでいません。", err=True)
        for problem in error.errors:
            typer.echo(f"  {path}/{problem}", err=True)
        raise typer.Exit(1) from error
    version = _run_in_session(lambda s: service.import_pack(s, pack=pack, if_changed=if_changed))
    if version is None:
        typer.echo(f"= {pack.course.slug}: 変更はありません(取り込み済みの最新版と同じです)。")
    else:
        typer.echo(f"✓ {pack.course.slug}: 第{version.number}版として取り込みました。")


@content_app.command("schema")
def content_schema(output: Path = Path("docs/content-schema.json")) -> None:
    """Write the JSON Schema of course.yaml, lesson front matter and quiz files."""
    from pydantic.json_schema import models_json_schema

    from app.content.schemas import CourseFile, LessonFrontMatter
    from app.quiz.schemas import QuizFile

    _, schema = models_json_schema(
        [(CourseFile, "validation"), (LessonFrontMatter, "validation"), (QuizFile, "validation")],
        title="Course pack (course.yaml, lesson front matter, quiz files)",
    )
    output.write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    typer.echo(f"{output} を書き出しました。")


@app.command("demo")
def demo(if_empty: Annotated[bool, typer.Option(help="do nothing when users already exist")] = False) -> None:
    """Create a demo organisation with accounts and varied progress (not in production)."""
    from app import demo as demo_data

    if get_settings().env is Environment.PRODUCTION:
        typer.echo("LMS_ENV=production ではデモデータを作成できません。", err=True)
        raise typer.Exit(1)

    async def work(session: AsyncSession) -> list[demo_data.DemoAccount] | None:
        if if_empty and not await demo_data.is_empty(session):
            return None
        return await demo_data.create_demo(session)

    accounts = _run_in_session(work)
    if accounts is None:
        typer.echo("ユーザーが登録済みのため、デモデータは作成しませんでした。")
        return
    typer.echo(f"デモデータを作成しました。パスワードはすべて「{demo_data.DEMO_PASSWORD}」です。")
    for account in accounts[:6]:
        typer.echo(f"  {account.role:<8} {account.email:<28} {account.name}({account.department})")
    typer.echo(f"  ほか employee01〜{len(accounts) - 4:02d}@example.com(受講者)")


user_app = typer.Typer(help="ユーザー", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("create")
def user_create(
    email: str,
    name: Annotated[str, typer.Option(help="表示名")],
    role: Annotated[str, typer.Option(help="learner, manager or admin")] = "learner",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
) -> None:
    """Create a user (for the first admin of a new installation, or scripts)."""
    from app.auth import service
    from app.auth.models import Role

    if role not in {r.value for r in Role}:
        typer.echo("role は learner, manager, admin のいずれかにしてください。", err=True)
        raise typer.Exit(2)
    if len(password) < 12:
        typer.echo("パスワードは12文字以上にしてください。", err=True)
        raise typer.Exit(2)
    _run_in_session(
        lambda s: service.create_user(s, email=email, password=password, display_name=name, role=Role(role))
    )
    typer.echo(f"{email}({role})を作成しました。")


@bench_app.command("seed")
def bench_seed(
    employees: Annotated[int, typer.Option(min=1, max=1_000_000)] = 100_000,
    course: str = "kasuhara-basics",
    seed: int = 1,
) -> None:
    """Add a large organisation (departments, managers, employees with history) for benchmarks."""
    import time

    from app import scale

    if get_settings().env is Environment.PRODUCTION:
        typer.echo("LMS_ENV=production ではベンチマーク用データを作成できません。", err=True)
        raise typer.Exit(1)
    started = time.perf_counter()
    report = _run_in_session(lambda s: scale.seed(s, employees=employees, course_slug=course, seed=seed))
    typer.echo(
        f"{report.employees:,} 人、{report.departments} 部署を作成しました({time.perf_counter() - started:.0f} 秒)。"
    )
    for table, count in sorted(report.rows.items()):
        typer.echo(f"  {table:<24} {count:>10,}")
    typer.echo(
        f"事業本部の管理職: {report.division_manager} / 部の管理職: {report.department_manager}"
        f"(パスワード {scale.PASSWORD})"
    )


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    reload: bool = False,
) -> None:
    """Serve the app with uvicorn."""
    import uvicorn

    settings = get_settings()
    typer.echo(f"http://{host}:{port} で起動します。")
    if settings.env is Environment.DEVELOPMENT:
        typer.echo(
            "デモのアカウント: learner@example.com / manager@example.com / admin@example.com(パスワード demo-password)"
        )
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers, reload=reload,
                proxy_headers=True, log_level=settings.log_level)  # fmt: skip


if __name__ == "__main__":
    app()
