"""``hookline serve``, ``migrate`` and ``token``: commands that run the server side."""

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from hookline.config import ConfigError, Settings, check, load_settings

if TYPE_CHECKING:
    from hookline.store.database import Database

T = TypeVar("T")
DATABASE_SETTING = "HOOKLINE_DATABASE_URL"


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


def fail(message: str, exit_code: int = 1) -> NoReturn:
    """End the command with one line on stderr (no usage text, no traceback)."""
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(exit_code)


def describe_database(settings: Settings, *, existing: bool = False) -> str:
    """What the database URL points at: the absolute SQLite path, or the URL without its password.

    With ``existing``, refuse (one line, exit 2) when that SQLite file does not exist:
    commands that only make sense on a server's database must not create an empty one.
    """
    from sqlalchemy.engine import make_url

    from hookline.store.database import sqlite_file
    from hookline.store.migrate import DatabaseSetupError, check_database_url

    try:
        check_database_url(settings.database_url, existing=existing)
    except DatabaseSetupError as exc:
        fail(f"{DATABASE_SETTING}: {exc}", 2)
    path = sqlite_file(settings.database_url)
    return str(path) if path else make_url(settings.database_url).render_as_string(hide_password=True)


def on_database(settings: Settings, work: "Callable[[Database], Awaitable[T]]", *, existing: bool) -> T:
    """Open the settings' database, migrate it, run ``work`` on it, close it.

    A database that cannot be used ends the command with one line naming the
    setting (exit 2); a database busy past its lock timeout, with one line (exit 1).
    With ``existing``, a missing SQLite file is refused rather than created.
    """
    from hookline.store.database import DatabaseUnavailableError
    from hookline.store.migrate import DatabaseSetupError, migrated_database

    async def run() -> T:
        async with migrated_database(
            settings.database_url,
            existing=existing,
            sqlite_synchronous=settings.sqlite_synchronous,
            lock_timeout=settings.database_lock_timeout,
        ) as db:
            return await work(db)

    try:
        result: T = _run(run())
    except DatabaseSetupError as exc:
        fail(f"{DATABASE_SETTING}: {exc}", 2)
    except DatabaseUnavailableError as exc:
        fail(f"{exc.code}: {exc}")
    return result


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
@click.option("--tls-cert", envvar="HOOKLINE_TLS_CERT", help="Serve HTTPS with this PEM certificate (chain)")
@click.option("--tls-key", envvar="HOOKLINE_TLS_KEY", help="The PEM private key of --tls-cert")
def serve(
    host: str | None,
    port: int | None,
    database_url: str | None,
    role: str,
    workers: int,
    tls_cert: str | None,
    tls_key: str | None,
) -> None:
    """Run the API and the delivery engine."""
    from hookline.logs import configure_logging
    from hookline.runtime import prepare_database

    settings = _settings(host=host, port=port, database_url=database_url, tls_cert=tls_cert, tls_key=tls_key)
    configure_logging(settings)
    describe_database(settings)  # an unusable URL ends here, in one line
    _check_tls(settings)
    hold_serve_lock(settings)
    _raise_file_limit(settings)
    if role != "worker":
        _check_port(settings)  # before a generated admin token is printed "once" for a server that never starts
    # Before anything says "listening", and once, before worker processes race for it.
    on_database(settings, lambda db: prepare_database(db, settings), existing=False)
    warn_at_start(settings, role)
    if workers > 1 and _db_label(settings) == "sqlite":
        click.echo("hookline: several processes on SQLite take turns writing; use PostgreSQL to scale", err=True)
    if role == "worker":
        click.echo(f"hookline worker x{workers} ({_db_label(settings)})", err=True)
        _run_processes(workers, _worker_main, settings)
        return
    _serve_http(settings, role, workers)


def _check_tls(settings: Settings) -> None:
    """Load the certificate and key once here, so that a wrong file is one line, not a traceback."""
    if settings.tls_cert is None or settings.tls_key is None:
        return
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(settings.tls_cert, settings.tls_key)
    except (ssl.SSLError, OSError) as exc:
        fail(f"HOOKLINE_TLS_CERT / HOOKLINE_TLS_KEY: cannot use {settings.tls_cert} with {settings.tls_key}: {exc}", 2)


_serve_lock: int | None = None  # the lock file's descriptor, held until the process exits


def hold_serve_lock(settings: Settings) -> None:
    """Refuse a second ``serve`` on one SQLite file (one line, exit 2).

    Two servers on one SQLite file work, but take turns at its single write lock:
    publish latency goes from milliseconds to seconds. The lock file sits next to
    the database, and only this process holds it: the processes that ``--workers``
    starts do not take it (file descriptors are not inherited). The kernel drops
    the lock when the process ends, however it ends.
    """
    import fcntl

    from hookline.store.database import sqlite_file

    global _serve_lock
    path = sqlite_file(settings.database_url)
    if path is None:
        return
    lock_path = path.with_name(path.name + ".lock")
    try:
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        fail(f"{DATABASE_SETTING}: cannot create the lock file {lock_path}: {exc.strerror}", 2)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        fail(
            f"another `hookline serve` is already using {path} (it holds {lock_path}); "
            "SQLite has one writer, so run one server per file, or use PostgreSQL",
            2,
        )
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _serve_lock = fd


def _raise_file_limit(settings: Settings) -> None:
    """Lift the soft file-descriptor limit to fit HOOKLINE_MAX_CONNECTIONS, as far as the
    hard limit allows: a common soft limit of 1,024 is less than the default cap."""
    import resource

    want = settings.max_connections + 256  # the database, the delivery engine's sockets, logs
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= want:
        return
    new = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if new > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
    if new < want:
        click.echo(
            f"hookline: warning: the file-descriptor limit ({new}) is below HOOKLINE_MAX_CONNECTIONS + 256; "
            "lower HOOKLINE_MAX_CONNECTIONS or raise `ulimit -n`",
            err=True,
        )


def startup_warnings(settings: Settings) -> list[str]:
    """Settings that work but leave the server weaker than it should be."""
    import ipaddress

    warnings = []
    if not settings.main_secret:
        warnings.append("HOOKLINE_MAIN_SECRET is not set: endpoint secrets are stored in clear in the database")
    try:
        loopback = settings.host == "localhost" or ipaddress.ip_address(settings.host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and settings.admin_token and len(settings.admin_token) < 32:
        warnings.append(
            f"HOOKLINE_ADMIN_TOKEN is {len(settings.admin_token)} characters and the server listens on "
            f"{settings.host}, beyond this machine: use 32 or more random characters"
        )
    return warnings


def warn_at_start(settings: Settings, role: str) -> None:
    import structlog

    log = structlog.get_logger("hookline.serve")
    for warning in startup_warnings(settings):
        log.warning("insecure setting", detail=warning, role=role)
        click.echo(f"hookline: warning: {warning}", err=True)


def _worker_main(settings: Settings) -> None:
    from hookline.logs import configure_logging
    from hookline.runtime import run_worker, settle_garbage_collector

    configure_logging(settings)
    settle_garbage_collector()
    _run(run_worker(settings))


def _child(target: Any, settings: Settings) -> None:
    from hookline.runtime import exit_with_parent

    exit_with_parent()
    target(settings)


def _run_processes(count: int, target: Any, settings: Settings) -> None:
    """Run ``target(settings)`` here, or in ``count`` child processes until they all exit."""
    if count == 1:
        target(settings)
        return
    import multiprocessing
    import signal

    context = multiprocessing.get_context("spawn")
    children = [context.Process(target=_child, args=(target, settings), daemon=False) for _ in range(count)]
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
    from hookline.api.protocol import EnvironmentHttpProtocol, protocol_for
    from hookline.runtime import settle_garbage_collector

    scheme = "https" if settings.tls_cert else "http"
    click.echo(
        f"hookline {role} listening on {scheme}://{settings.host}:{settings.port} ({_db_label(settings)})", err=True
    )
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,
        "log_level": "warning",
        "loop": "uvloop",
        # --workers N pickles the options for its processes: a class they can import.
        "http": protocol_for(settings) if workers == 1 else EnvironmentHttpProtocol,
        "timeout_graceful_shutdown": int(settings.request_timeout) + 5,
        "proxy_headers": settings.proxy_headers,
        "ssl_certfile": settings.tls_cert,
        "ssl_keyfile": settings.tls_key,
    }
    if workers == 1:
        _exit_cleanly_after_shutdown()
        app = create_app(settings, run_engine=role == "all")
        settle_garbage_collector()
        uvicorn.run(app, **options)
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


def _check_port(settings: Settings) -> None:
    """Fail in one line, before saying "listening", when the address cannot be bound."""
    import socket

    try:
        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        socket.create_server((settings.host, settings.port), family=family).close()
    except OSError as exc:
        fail(f"cannot listen on {settings.host}:{settings.port} (HOOKLINE_HOST, HOOKLINE_PORT): {exc.strerror}", 2)


def _environment(settings: Settings, role: str) -> dict[str, str]:
    return {
        "HOOKLINE_HOST": settings.host,
        "HOOKLINE_PORT": str(settings.port),
        "HOOKLINE_DATABASE_URL": settings.database_url,
        "HOOKLINE_ROLE": role,
        **({"HOOKLINE_TLS_CERT": settings.tls_cert} if settings.tls_cert else {}),
        **({"HOOKLINE_TLS_KEY": settings.tls_key} if settings.tls_key else {}),
    }


def _db_label(settings: Settings) -> str:
    from hookline.store.database import normalize_url

    return normalize_url(settings.database_url)[1]


@click.command("migrate")
@database_option
def migrate_command(database_url: str | None) -> None:
    """Apply database migrations and exit."""
    settings = _settings(database_url=database_url)
    where = describe_database(settings)

    async def nothing_more(_db: "Database") -> None:
        return None

    on_database(settings, nothing_more, existing=False)
    click.echo(f"migrations applied to {where}", err=True)


@click.group(invoke_without_command=True)
@click.pass_context
@database_option
def token(ctx: click.Context, database_url: str | None) -> None:
    """Create, list and revoke API tokens (alone: a new admin token)."""
    ctx.obj = _settings(database_url=database_url)
    if ctx.invoked_subcommand is None:
        ctx.invoke(create_token, app_id=None, name="admin", expires=None)


def _duration(_ctx: click.Context, _param: click.Parameter, text: str | None) -> float | None:
    """``90m``, ``12h``, ``30d``, ``2w`` in seconds (the units every duration option takes)."""
    from hookline.cli.options import duration_seconds

    return None if text is None else duration_seconds(text, "--expires")


def _with_database(settings: Settings, work: Any, missing: str | None = None) -> Any:
    """Run ``work(db)`` against the server's existing database (never a new empty one: a token
    made there would not work against the server); a missing row is one line and exit 1."""
    from hookline.errors import NotFound

    where = describe_database(settings, existing=True)
    try:
        result = on_database(settings, work, existing=True)
    except NotFound as exc:
        raise click.ClickException(missing or str(exc)) from None
    click.echo(f"database: {where}", err=True)  # which server's tokens these are
    return result


@token.command("create")
@click.option("--app", "app_id", help="Scope the token to this application (id or uid)")
@click.option("--name", default="cli", show_default=True, help="A label for the token")
@click.option("--expires", callback=_duration, help="Make it expire after this long: 90m, 12h, 30d, 2w [never]")
@click.pass_obj
def create_token(settings: Settings, app_id: str | None, name: str, expires: float | None) -> None:
    """Create a token and print it (it is stored hashed: it cannot be shown again)."""
    from hookline.errors import Invalid
    from hookline.services import tokens

    async def work(db: Any) -> str:
        _, value = await tokens.create_token(db, app=app_id, name=name, expires_in=expires, origin="cli")
        return value

    try:
        click.echo(_with_database(settings, work, missing=f"application {app_id!r} not found"))
    except Invalid as exc:
        raise click.BadParameter(str(exc), param_hint=f"'--{exc.field[-1]}'") from None


@token.command("list")
@click.pass_obj
def list_tokens(settings: Settings) -> None:
    """List tokens: id, scope, name, origin, created, expires, revoked (never the tokens themselves)."""
    from hookline.cli.output import table
    from hookline.services import tokens

    rows = _with_database(settings, tokens.list_tokens)
    columns = ("id", "scope", "name", "origin", "created", "expires", "revoked")
    lines = [
        (
            row.id,
            row.app_id or "admin",
            row.name,
            row.origin,
            _time(row.created_at),
            _time(row.expires_at) or "never",
            _time(row.revoked_at) or "-",
        )
        for row in rows
    ]
    click.echo(table(columns, lines))


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
