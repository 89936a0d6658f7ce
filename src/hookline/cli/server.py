"""``hookline serve``, ``migrate`` and ``token``: commands that run the server side."""

import asyncio
import os
from typing import Any

import click

from hookline.config import ConfigError, Settings, check, load_settings


def _settings(**overrides: Any) -> Settings:
    try:
        return check(load_settings().with_overrides(**overrides))
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc


def _run(coro: Any) -> Any:
    try:
        import uvloop

        return uvloop.run(coro)
    except ImportError:
        return asyncio.run(coro)


database_option = click.option(
    "--database-url", envvar="HOOKLINE_DATABASE_URL", help="sqlite:///path.db (default) or postgresql://..."
)


@click.command()
@click.option("--host", envvar="HOOKLINE_HOST", help="Address to listen on [127.0.0.1]")
@click.option("--port", envvar="HOOKLINE_PORT", type=int, help="Port to listen on [8071]")
@database_option
@click.option(
    "--role",
    type=click.Choice(["all", "api", "worker"]),
    default="all",
    show_default=True,
    envvar="HOOKLINE_ROLE",
    help="api: HTTP only; worker: deliveries only; all: both",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    envvar="HOOKLINE_WORKERS",
    help="Processes to run on this machine",
)
def serve(host: str | None, port: int | None, database_url: str | None, role: str, workers: int) -> None:
    """Run the API and the delivery engine."""
    from hookline.logs import configure_logging
    from hookline.runtime import prepare

    settings = _settings(host=host, port=port, database_url=database_url)
    configure_logging(settings)
    if workers > 1:
        if _db_label(settings) == "sqlite":
            click.echo("hookline: several processes on SQLite take turns writing; use PostgreSQL to scale", err=True)
        _run(prepare(settings))  # once, before the processes race for it
    if role == "worker":
        click.echo(f"hookline worker x{workers} ({_db_label(settings)})", err=True)
        _run_processes(workers, _worker_main, settings)
        return
    _serve_http(settings, role, workers)


def _worker_main(settings: Settings) -> None:
    from hookline.logs import configure_logging
    from hookline.runtime import run_worker

    configure_logging(settings)
    _run(run_worker(settings))


def _run_processes(count: int, target: Any, settings: Settings) -> None:
    """Run ``target(settings)`` here, or in ``count`` child processes until they all exit."""
    if count == 1:
        target(settings)
        return
    import multiprocessing
    import signal

    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=target, args=(settings,), daemon=False) for _ in range(count)]
    for child in children:
        child.start()

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            if child.pid is not None and child.is_alive():
                os.kill(child.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        child.join()


def _serve_http(settings: Settings, role: str, workers: int) -> None:
    import uvicorn

    from hookline.api.app import create_app
    from hookline.api.protocol import LimitedHttpToolsProtocol

    click.echo(f"hookline {role} listening on http://{settings.host}:{settings.port} ({_db_label(settings)})", err=True)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,
        "log_level": "warning",
        "loop": "uvloop",
        "http": LimitedHttpToolsProtocol,
        "timeout_graceful_shutdown": int(settings.request_timeout) + 5,
        "proxy_headers": settings.proxy_headers,
    }
    if workers == 1:
        _exit_cleanly_after_shutdown()
        uvicorn.run(create_app(settings, run_engine=role == "all"), **options)
        return
    # uvicorn's process manager imports the app in each worker: hand the settings over by environment.
    os.environ.update(_environment(settings, role))
    uvicorn.run("hookline.api.app:app_from_env", factory=True, workers=workers, **options)


def _exit_cleanly_after_shutdown() -> None:
    """Make SIGTERM and SIGINT end the process with status 0 once uvicorn has shut down.

    uvicorn shuts down gracefully (HTTP drained, engine stopped, outcomes recorded),
    then restores the handlers it found and raises the signal again. With the
    default handlers that kills the process by SIGTERM: a clean stop would look
    like a crash to a supervisor. These handlers turn it into a normal exit.
    """
    import signal

    def _exit(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, _exit)


def _environment(settings: Settings, role: str) -> dict[str, str]:
    return {
        "HOOKLINE_HOST": settings.host,
        "HOOKLINE_PORT": str(settings.port),
        "HOOKLINE_DATABASE_URL": settings.database_url,
        "HOOKLINE_ROLE": role,
    }


def _db_label(settings: Settings) -> str:
    from hookline.store.database import normalize_url

    return normalize_url(settings.database_url)[1]


@click.command("migrate")
@database_option
def migrate_command(database_url: str | None) -> None:
    """Apply database migrations and exit."""
    from hookline.store.database import Database
    from hookline.store.migrate import migrate

    settings = _settings(database_url=database_url)

    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await migrate(db)
        finally:
            await db.close()

    _run(run())
    click.echo("migrations applied", err=True)


@click.group(invoke_without_command=True)
@click.pass_context
@database_option
def token(ctx: click.Context, database_url: str | None) -> None:
    """Create, list and revoke API tokens (alone: a new admin token)."""
    ctx.obj = _settings(database_url=database_url)
    if ctx.invoked_subcommand is None:
        ctx.invoke(create_token, app_id=None, name="admin", expires=None)


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def _duration(_ctx: click.Context, _param: click.Parameter, text: str | None) -> float | None:
    """``90m``, ``12h``, ``30d``, ``2w`` in seconds."""
    import re

    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*", text)
    if not match or float(match.group(1)) <= 0:
        raise click.BadParameter("use a positive number and a unit: 90m, 12h, 30d or 2w")
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def _with_database(settings: Settings, work: Any, missing: str | None = None) -> Any:
    """Run ``work(db)`` against the migrated database; a missing row is one line and exit 1."""
    from hookline.store.database import Database
    from hookline.store.errors import NotFoundError
    from hookline.store.migrate import migrate

    async def run() -> Any:
        db = Database(settings.database_url)
        try:
            await migrate(db)
            return await work(db)
        finally:
            await db.close()

    try:
        return _run(run())
    except NotFoundError as exc:
        raise click.ClickException(missing or str(exc)) from None


@token.command("create")
@click.option("--app", "app_id", help="Scope the token to this application (id or uid)")
@click.option("--name", default="cli", show_default=True, help="A label for the token")
@click.option("--expires", callback=_duration, help="Make it expire after this long: 90m, 12h, 30d, 2w [never]")
@click.pass_obj
def create_token(settings: Settings, app_id: str | None, name: str, expires: float | None) -> None:
    """Create a token and print it (it is stored hashed: it cannot be shown again)."""
    from hookline.services import tokens

    async def work(db: Any) -> str:
        _, value = await tokens.create_token(db, app=app_id, name=name, expires_in=expires, origin="cli")
        return value

    click.echo(_with_database(settings, work, missing=f"application {app_id!r} not found"))


@token.command("list")
@click.pass_obj
def list_tokens(settings: Settings) -> None:
    """List tokens: id, scope, name, origin, created, expires, revoked (never the tokens themselves)."""
    from hookline.services import tokens

    rows = _with_database(settings, tokens.list_tokens)
    table = [("ID", "SCOPE", "NAME", "ORIGIN", "CREATED", "EXPIRES", "REVOKED")]
    for row in rows:
        scope = row.app_id or "admin"
        when = (_time(row.created_at), _time(row.expires_at) or "never", _time(row.revoked_at) or "-")
        table.append((row.id, scope, row.name, row.origin, *when))
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]) - 1)]
    for line in table:
        click.echo("  ".join([*(cell.ljust(width) for cell, width in zip(line, widths, strict=False)), line[-1]]))


def _time(ms: int | None) -> str:
    from datetime import UTC, datetime

    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


@token.command("revoke")
@click.argument("token_id")
@click.pass_obj
def revoke_token(settings: Settings, token_id: str) -> None:
    """Revoke a token by id (see ``token list``). A running server refuses it within 10 seconds."""
    from hookline.services import tokens

    async def work(db: Any) -> Any:
        return await tokens.revoke_token(db, token_id)

    _with_database(settings, work, missing=f"token {token_id!r} not found")
    click.echo(f"revoked {token_id}", err=True)
