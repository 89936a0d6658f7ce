"""``hookline serve``, ``migrate`` and ``token``: commands that run the server side."""

import asyncio
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
def serve(host: str | None, port: int | None, database_url: str | None) -> None:
    """Run the API and the delivery engine."""
    import uvicorn

    from hookline.api.app import create_app
    from hookline.api.protocol import LimitedHttpToolsProtocol
    from hookline.logs import configure_logging

    settings = _settings(host=host, port=port, database_url=database_url)
    configure_logging(settings)
    app = create_app(settings)
    click.echo(f"hookline listening on http://{settings.host}:{settings.port} ({_db_label(settings)})", err=True)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="warning",
        loop="uvloop",
        http=LimitedHttpToolsProtocol,
        timeout_graceful_shutdown=int(settings.request_timeout) + 5,
    )


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
    """Create API tokens (alone: a new admin token)."""
    ctx.obj = _settings(database_url=database_url)
    if ctx.invoked_subcommand is None:
        ctx.invoke(create_token, app_id=None, name="admin")


@token.command("create")
@click.option("--app", "app_id", help="Scope the token to this application (id or uid)")
@click.option("--name", default="cli", show_default=True, help="A label for the token")
@click.pass_obj
def create_token(settings: Settings, app_id: str | None, name: str) -> None:
    """Create a token and print it (it is stored hashed: it cannot be shown again)."""
    from hookline.store import applications, tokens
    from hookline.store.database import Database
    from hookline.store.migrate import migrate

    async def run() -> str:
        db = Database(settings.database_url)
        try:
            await migrate(db)
            async with db.write() as conn:
                scope = None
                if app_id:
                    app = await applications.find(conn, app_id)
                    if app is None:
                        raise click.ClickException(f"application {app_id!r} not found")
                    scope = app["id"]
                return await tokens.create(conn, app_id=scope, name=name)
        finally:
            await db.close()

    click.echo(_run(run()))


@token.command("list")
@click.pass_obj
def list_tokens(settings: Settings) -> None:
    """List tokens (ids, scopes and names; never the tokens themselves)."""
    from hookline.store import tokens
    from hookline.store.database import Database
    from hookline.store.migrate import migrate

    async def run() -> list[Any]:
        db = Database(settings.database_url)
        try:
            await migrate(db)
            async with db.read() as conn:
                return await tokens.list_all(conn)
        finally:
            await db.close()

    for row in _run(run()):
        click.echo(f"{row['id']}\t{row['app_id'] or 'admin'}\t{row['name']}")
