"""The `lms` command: database, content, demo data and the web server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Environment, base_url_warnings, get_settings, served_base_url
from app.core.db import make_engine, make_sessionmaker

if TYPE_CHECKING:  # imported lazily at run time to keep `lms --help` fast
    from app.content.models import CourseVersion
    from app.content.pack import Pack

app = typer.Typer(help="カスハラ対策研修 LMS の管理コマンド", no_args_is_help=True)
db_app = typer.Typer(help="データベース", no_args_is_help=True)
content_app = typer.Typer(help="コースパックの検証と取り込み", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(content_app, name="content")
cycles_app = typer.Typer(help="繰り返しの研修(再受講)", no_args_is_help=True)
app.add_typer(cycles_app, name="cycles")

T = TypeVar("T")


def run_in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one unit of work in a transaction: all of it is stored, or none of it."""

    import app.models  # noqa: F401 - every model registered, so foreign keys between domains resolve
    from app import subscriptions
    from app.core import logs

    settings = get_settings()
    logs.configure(settings.log_level, log_format=settings.log_format, file=settings.log_file)
    subscriptions.install(get_settings())

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


def _backup_step(step: Callable[[str, Path], None], file: Path, done: str) -> None:
    """Run a backup or restore step on the configured database; its error message and exit 1 on failure."""
    from app.core.backup import BackupError

    try:
        step(get_settings().database_url, file)
    except BackupError as error:
        typer.echo(f"✗ {error}", err=True)
        raise typer.Exit(1) from error
    typer.echo(done)


@db_app.command("backup")
def db_backup(
    target: Annotated[Path, typer.Argument(help="file to write (SQLite copy or pg_dump custom format)")],
) -> None:
    """Write a consistent backup of the database (safe while the app runs)."""
    from app.core.backup import backup

    _backup_step(backup, target, f"✓ {target} にバックアップしました。")


@db_app.command("restore")
def db_restore(
    source: Annotated[Path, typer.Argument(help="a file written by `lms db backup`")],
    yes: Annotated[bool, typer.Option("--yes", help="confirm: the current data is replaced")] = False,
) -> None:
    """Replace the database's contents with a backup (all or nothing), then migrate it. Stop the app first."""
    from app.core.backup import restore

    if not yes:
        typer.echo(
            "今のデータはバックアップの内容で置き換えられます。よければ --yes を付けて実行してください。", err=True
        )
        raise typer.Exit(2)
    _backup_step(restore, source, f"✓ {source} から復元しました。")


@db_app.command("analyze")
def db_analyze() -> None:
    """Refresh the query planner's statistics (after a bulk import; PostgreSQL's autovacuum also does it)."""
    from sqlalchemy import text

    run_in_session(lambda s: s.execute(text("ANALYZE")))
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


def _load_for_import(path: Path) -> Pack:
    """A validated pack from a folder or a .zip; prints every problem and exits otherwise."""
    from app.authoring.drafts import pack_from_zip
    from app.content.errors import PackInvalid
    from app.content.pack import load_pack

    try:
        return pack_from_zip(path.read_bytes()) if path.suffix.lower() == ".zip" else load_pack(path)
    except PackInvalid as error:
        typer.echo(f"✗ {path}: {error.message} 何も取り込んでいません。", err=True)
        for problem in error.errors:
            typer.echo(f"  {path}/{problem}", err=True)
        raise typer.Exit(1) from error


@content_app.command("import")
def content_import(
    path: Annotated[Path, typer.Argument(help="a pack folder, or a .zip of one")],
    publish: Annotated[
        bool, typer.Option("--publish/--draft", help="publish at once (default), or keep a draft")
    ] = True,
    if_changed: Annotated[bool, typer.Option(help="skip when the pack equals the latest version")] = False,
    note: Annotated[str, typer.Option(help="what changed, shown in the version history")] = "",
    reread: Annotated[
        bool, typer.Option(help="a substantive change: learners who read a changed lesson must read it again")
    ] = False,
) -> None:
    """Validate a pack completely, then store it as the course's next version (published, or as a draft)."""
    from app.authoring import drafts
    from app.authoring.schemas import Source

    pack = _load_for_import(path)

    async def work(session: AsyncSession) -> CourseVersion | None:
        return await drafts.import_pack(
            session,
            pack=pack,
            source=Source.CLI,
            if_changed=if_changed,
            publish=publish,
            reread_changed=reread,
            note=note,
            origin=str(path),
        )

    version = run_in_session(work)
    if version is None:
        typer.echo(f"= {pack.course.slug}: 変更はありません(取り込み済みの最新版と同じです)。")
    elif publish:
        typer.echo(f"✓ {pack.course.slug}: 第{version.number}版として取り込み、公開しました。")
        if reread and version.reread_slugs:
            typer.echo(
                f"  変更されたレッスンを読んだ人には、もう一度読むよう求めます: {', '.join(version.reread_slugs)}"
            )
    else:
        typer.echo(
            f"✓ {pack.course.slug}: 第{version.number}版を下書きとして保存しました(公開は管理画面か --publish で)。"
        )


@content_app.command("rollback")
def content_rollback(
    course: Annotated[str, typer.Argument(help="the course slug")],
    version: Annotated[int, typer.Argument(help="the version number to make current again")],
) -> None:
    """Make an earlier published version of a course current again (nothing is deleted)."""
    from sqlalchemy import select

    from app.authoring import publication
    from app.authoring.schemas import Source
    from app.content.models import Course, CourseVersion
    from app.core.errors import AppError

    async def work(session: AsyncSession) -> None:
        version_id = await session.scalar(
            select(CourseVersion.id)
            .join(Course, Course.id == CourseVersion.course_id)
            .where(Course.slug == course, CourseVersion.number == version)
        )
        if version_id is None:
            raise typer.BadParameter(f"{course} の第{version}版はありません。")
        await publication.rollback(session, version_id=version_id, actor=None, source=Source.CLI)

    try:
        run_in_session(work)
    except AppError as error:
        typer.echo(f"✗ {error.message}", err=True)
        raise typer.Exit(1) from error
    typer.echo(f"✓ {course}: 第{version}版を公開中にしました。")


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

    accounts = run_in_session(work)
    if accounts is None:
        typer.echo("ユーザーが登録済みのため、デモデータは作成しませんでした。")
        return
    typer.echo(f"デモデータを作成しました。パスワードはすべて「{demo_data.DEMO_PASSWORD}」です。")
    for account in accounts[:6]:
        typer.echo(f"  {account.role:<8} {account.email:<28} {account.name}({account.department})")
    typer.echo(f"  ほか employee01〜{len(accounts) - 4:02d}@example.com(受講者)")


users_app = typer.Typer(help="ユーザー", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("create-admin")
def users_create_admin(
    login: Annotated[str, typer.Argument(help="e-mail address (or 社員番号 for an account without e-mail)")],
    name: Annotated[str, typer.Option(help="表示名")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)] = "",
) -> None:
    """Create an administrator (the first one of a new installation, or a replacement)."""
    from app.audit import service as audit
    from app.auth import service
    from app.auth.models import Role
    from app.core.errors import AppError

    problem = service.password_problem(password)
    if problem:
        typer.echo(problem, err=True)
        raise typer.Exit(2)
    email, number = (login, None) if "@" in login else (None, login)

    async def work(session: AsyncSession) -> None:
        user = await service.create_user(
            session, email=email, employee_number=number, password=password, display_name=name, role=Role.ADMIN
        )
        await audit.record(
            session,
            actor=None,
            action="user.create",
            target_type="user",
            target_id=user.id,
            summary=f"{name} を作成(システム管理者、lms users create-admin)",
        )

    try:
        run_in_session(work)
    except AppError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(1) from error
    typer.echo(f"{login} をシステム管理者として作成しました。")


@users_app.command("import")
def users_import(
    file: Annotated[Path, typer.Argument(help="employee CSV (UTF-8, UTF-8 with BOM, or Shift_JIS)", exists=True)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show what would change, change nothing")] = False,
    deactivate_missing: Annotated[bool, typer.Option(help="deactivate employees not in the file")] = False,
) -> None:
    """Import employees from HR's CSV: a dry run lists every change and error; applying is all or nothing."""
    from app.users import csv_reader, import_apply, import_plan

    data = file.read_bytes()

    async def work(session: AsyncSession) -> import_plan.ImportPlan:
        parsed = csv_reader.parse_employee_csv(data)
        plan = import_plan.plan_import(
            parsed, await import_apply.snapshot(session), deactivate_missing=deactivate_missing, acting_user_id=None
        )
        if plan.ok and not dry_run and not plan.is_empty:
            await import_apply.apply_plan(session, plan=plan, actor=None, source=file.name)
        return plan

    plan = run_in_session(work)
    for note in plan.notes:
        typer.echo(f"  ({note})")
    for error in plan.errors:
        where = f"{error.line} 行目" if error.line else "ファイル全体"
        typer.echo(f"✗ {where}{f'「{error.column}」' if error.column else ''}: {error.message}", err=True)
    for change in plan.creates + plan.updates + plan.deactivations:
        fields = "、".join(f"{c.field}: {c.old or '—'} → {c.new or '—'}" for c in change.changes)
        typer.echo(f"  {change.kind:<10} {change.employee_number:<12} {change.name} {fields}")
    counts = (
        f"作成 {len(plan.creates)}、更新 {len(plan.updates)}、無効化 {len(plan.deactivations)}、"
        f"変更なし {plan.unchanged}"
    )
    if not plan.ok:
        typer.echo(f"✗ {len(plan.errors)} 件の問題があるため、何も取り込んでいません({counts})。", err=True)
        raise typer.Exit(1)
    if plan.is_empty:
        typer.echo(f"= 変更はありません。CSV の内容はすでに反映されています({counts})。")
    elif dry_run:
        typer.echo(f"確認のみ(--dry-run): {counts}。何も変更していません。")
    else:
        typer.echo(f"✓ 取り込みました: {counts}。")


@app.command("serve")
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = 1,
    reload: bool = False,
    worker: Annotated[
        bool, typer.Option(help="run a job worker in each web process (off when `lms worker` runs them)")
    ] = True,
) -> None:
    """Serve the app with uvicorn (and, unless --no-worker, a job worker in each process)."""
    import os

    import uvicorn

    os.environ["LMS_WORKER_IN_PROCESS"] = "true" if worker else "false"  # read by create_app in each process
    get_settings.cache_clear()
    settings = get_settings()
    if "base_url" not in settings.model_fields_set:  # not configured: links point at this server
        os.environ["LMS_BASE_URL"] = served_base_url(host, port)
        get_settings.cache_clear()
        settings = get_settings()
    typer.echo(f"http://{host}:{port} で起動します(リンクのアドレス: {settings.base_url})。")
    for warning in base_url_warnings(settings.base_url, host, port):
        typer.secho(f"⚠ {warning}", err=True, fg=typer.colors.YELLOW)
    if settings.env is Environment.DEVELOPMENT:
        typer.echo(
            "デモのアカウント: learner@example.com / manager@example.com / admin@example.com(パスワード demo-password)"
        )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        reload_includes=["*.py", "*.html", "*.mo"] if reload else None,
        proxy_headers=True,
        log_level=settings.log_level,
    )


@app.command("worker")
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="jobs run at the same time")] = 4,
    queues: Annotated[str, typer.Option(help="comma-separated queues to serve (default: all), e.g. mail")] = "",
    once: Annotated[bool, typer.Option(help="run what is due now, then exit (for cron and scripts)")] = False,
    schedules: Annotated[bool, typer.Option(help="also enqueue recurring jobs (cycles, notices, digest)")] = True,
) -> None:
    """Run background jobs until SIGTERM/SIGINT (then finish running jobs or give them back). Start as many as
    you like, on as many machines as you like, against the same database."""
    import signal

    import app.models  # noqa: F401 - every model registered, so foreign keys between domains resolve
    from app import subscriptions
    from app.core import logs
    from app.jobs.worker import Worker, WorkerOptions

    settings = get_settings()
    logs.configure(settings.log_level, log_format=settings.log_format, file=settings.log_file)
    subscriptions.install(settings)
    options = WorkerOptions(
        concurrency=concurrency,
        queues=[q.strip() for q in queues.split(",") if q.strip()] or None,
        lease_seconds=settings.job_lease_seconds,
        shutdown_grace_seconds=settings.job_shutdown_seconds,
        run_schedules=schedules,
    )

    async def main() -> int:
        engine = make_engine(settings)
        job_worker = Worker(make_sessionmaker(engine), settings, options)
        try:
            if once:
                return await job_worker.run_until_idle()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, job_worker.stop)
            await job_worker.run()
            return 0
        finally:
            await engine.dispose()

    ran = asyncio.run(main())
    if once:
        typer.echo(f"ジョブを {ran} 件実行しました。")


@cycles_app.command("run")
def cycles_run() -> None:
    """Open every recurring training cycle that is due now (the app's workers also do this every hour)."""
    from app.assignments.recurrence import open_due_cycles
    from app.core.db import utcnow

    opened = run_in_session(lambda session: open_due_cycles(session, now=utcnow()))
    typer.echo(f"新しい研修期間を {len(opened)} 件開始しました。")


if __name__ == "__main__":
    app()
