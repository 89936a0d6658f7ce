"""Database URLs as users paste them: libpq's ``sslmode`` (what hosted PostgreSQL services hand
out), and SQLite URLs that cannot hold a queue."""

import asyncio
import re
import ssl
from pathlib import Path
from urllib.parse import quote, urlencode

import asyncpg
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from tests.cli.conftest import assert_one_line_error
from tests.conftest import PG_URL
from tests.support.tls import Authority

from hookline.cli import main
from hookline.delivery.wakeup import PgWakeups
from hookline.store.database import Database, normalize_url, pg_connect_args


def test_sslmode_is_passed_to_the_driver_as_ssl() -> None:
    url, dialect = normalize_url("postgresql://u:p@db.example.com:5432/hooks?sslmode=require")
    assert dialect == "postgresql"
    assert url == "postgresql+asyncpg://u:p@db.example.com:5432/hooks?ssl=require"
    with pytest.raises(ValueError, match="not both"):
        normalize_url("postgresql://db.example.com/hooks?sslmode=require&ssl=require")


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file:x?mode=memory&uri=true"])
def test_an_in_memory_sqlite_database_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="in-memory SQLite"):
        normalize_url(url)


@pytest.mark.parametrize(
    "query",
    [
        "sslmode=disable",
        "ssl=disable",
        "sslmode=prefer",
        "application_name=hl-wakeup&connect_timeout=5",
        # servicefile reached the listener's DSN as a server setting; options goes there as one too
        "sslrootcert=%2Fnowhere%2Fca.pem&servicefile=%2Fnowhere%2Fpg_service.conf&options=-c%20work_mem%3D8MB",
        # the engine's (SQLAlchemy's), not a server setting
        "prepared_statement_cache_size=0",
    ],
)
def test_the_wakeup_listener_connects_with_an_ssl_setting_in_the_url(query: str) -> None:
    """The listener's own connection took ``ssl`` for a server setting and failed every connect,
    so no process was woken by another's publish (each fell back to polling)."""
    engine_url, _ = normalize_url(f"{PG_URL}?{query}")

    async def scenario() -> None:
        woken = asyncio.Event()
        wakeups = PgWakeups(engine_url, {"hookline_test_wakeup": woken.set})
        wakeups.start()
        try:
            await asyncio.wait_for(woken.wait(), 30)  # called once on connect
            woken.clear()
            notifier = await asyncpg.connect(PG_URL)
            try:
                await notifier.execute("NOTIFY hookline_test_wakeup, 'elsewhere'")
            finally:
                await notifier.close()
            await asyncio.wait_for(woken.wait(), 30)
        finally:
            await wakeups.stop()

    asyncio.run(scenario())


def test_libpq_parameters_asyncpg_takes_as_arguments() -> None:
    url, args = pg_connect_args("postgresql+asyncpg://h/db?connect_timeout=5&application_name=billing&ssl=require")
    assert url == "postgresql+asyncpg://h/db?ssl=require"
    assert args == {"timeout": 5.0, "server_settings": {"application_name": "billing"}}
    for bad, said in [
        ("connect_timeout=soon", "connect_timeout must be a number of seconds"),
        ("connect_timeout=0", "connect_timeout must be a number of seconds"),
        ("connect_timeout=nan", "connect_timeout must be a number of seconds"),
        ("application_name=a&application_name=b", "more than once"),
    ]:
        with pytest.raises(ValueError, match=said):
            normalize_url(f"postgresql://h/db?{bad}")


def test_application_name_and_connect_timeout_reach_the_connection() -> None:
    """They reached asyncpg as unknown keywords: the server would not start with them in the URL."""

    async def scenario() -> str:
        db = Database(f"{PG_URL}?application_name=hookline-url-test&connect_timeout=5")
        try:
            async with db.read() as conn:
                return str((await conn.execute(text("SELECT current_setting('application_name')"))).scalar_one())
        finally:
            await db.close()

    assert asyncio.run(scenario()) == "hookline-url-test"


def _scalars(url: str, *queries: str) -> list[str]:
    """What each query answers on a connection of ``Database(url)``."""

    async def scenario() -> list[str]:
        db = Database(url)
        try:
            async with db.read() as conn:
                return [str((await conn.execute(text(q))).scalar_one()) for q in queries]
        finally:
            await db.close()

    return asyncio.run(scenario())


def test_options_settings_reach_the_connection() -> None:
    """``options=-c name=value`` (libpq's way to set a server setting per connection) reached
    asyncpg as an unknown keyword: the server would not start with it in the URL."""
    options = quote(r"-c statement_timeout=1234 --lock-timeout=5s -c search_path=public,\ pg_catalog", safe="")
    assert _scalars(
        f"{PG_URL}?options={options}", "SHOW statement_timeout", "SHOW lock_timeout", "SHOW search_path"
    ) == [
        "1234ms",
        "5s",
        "public, pg_catalog",
    ]


def test_prepared_statement_cache_size_reaches_the_engine() -> None:
    """SQLAlchemy's own parameter (``=0`` behind pgbouncer in transaction mode) was refused at start
    as not a PostgreSQL connection parameter. At 0 the engine keeps no statement prepared."""
    kept = "SELECT count(*) FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_prepared_statements%'"
    assert int(_scalars(PG_URL, "SELECT 1", "SELECT 2", kept)[2]) >= 2  # by default, the engine keeps them
    assert _scalars(f"{PG_URL}?prepared_statement_cache_size=0", "SELECT 1", "SELECT 2", kept) == ["1", "2", "0"]


def test_libpq_parameters_as_hosted_services_and_libpq_write_them_connect(tmp_path: Path) -> None:
    """sslrootcert, sslcert and sslkey (asyncpg reads them only from a DSN), dbname, and
    parameters at values that ask nothing asyncpg lacks: each stopped the first connection."""
    pair = Authority(tmp_path).issue("client", server=False)
    base, database = PG_URL.rsplit("/", 1)
    query = urlencode(
        {
            "dbname": database,
            "sslmode": "disable",  # the local server has no TLS; libpq ignores the files then, as asyncpg does
            "sslrootcert": str(pair.cert),
            "sslcert": str(pair.cert),
            "sslkey": str(pair.key),
            "target_session_attrs": "read-write",
            "fallback_application_name": "hookline-fallback",
            "client_encoding": "UTF8",
            "channel_binding": "prefer",
            "gssencmode": "disable",
        }
    )
    answers = _scalars(f"{base}?{query}", "SELECT current_database()", "SELECT current_setting('application_name')")
    assert answers == [database, "hookline-fallback"]


def test_ssl_files_are_read_by_the_driver(tmp_path: Path) -> None:
    """sslrootcert reaches asyncpg, which reads it (here a file that holds no certificate)."""
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(ssl.SSLError):
        _scalars(f"{PG_URL}?sslmode=verify-full&sslrootcert={bogus}", "SELECT 1")


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("hostaddr=127.0.0.1", "hostaddr: asyncpg has no hostaddr"),
        ("keepalives=1", "keepalives=1: asyncpg does not turn TCP keepalives on"),
        ("keepalives_idle=30", "keepalives_idle: asyncpg does not set TCP keepalives"),
        ("channel_binding=require", "channel_binding=require: asyncpg cannot do SCRAM channel binding"),
        ("gssencmode=require", "gssencmode=require: asyncpg cannot encrypt with GSSAPI"),
        ("client_encoding=LATIN1", "client_encoding=LATIN1: asyncpg speaks only UTF8"),
        ("requiressl=1", "requiressl: libpq replaced it with sslmode=require"),
        ("sslcrldir=/etc/crl", "sslcrldir: asyncpg reads one CRL file"),
        ("options=-B%201000", "options: '-B' is not a setting"),
        ("options=-c%20statement_timeout", "options: 'statement_timeout' is not name=value"),
        ("statement_timeout=5", "statement_timeout is not a PostgreSQL connection parameter"),
        ("sslrootcert=a&sslrootcert=b", "sslrootcert is given more than once"),
        ("sslmode=true", "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full"),
        ("dbname=other", "dbname: the URL names another database in its path"),
        ("prepared_statement_cache_size=-1", "prepared_statement_cache_size must be a whole number, 0 or more"),
        ("prepared_statement_cache_size=off", "prepared_statement_cache_size must be a whole number, 0 or more"),
    ],
)
def test_parameters_asyncpg_cannot_honour_are_refused_at_start_by_name(query: str, said: str) -> None:
    """They reached asyncpg as unknown keywords at the first connection, after the server had started."""
    with pytest.raises(ValueError, match=re.escape(said)):
        normalize_url(f"postgresql://db.example.com/hooks?{query}")
    result = CliRunner().invoke(main, ["migrate"], env={"HOOKLINE_DATABASE_URL": f"{PG_URL}?{query}"})
    assert assert_one_line_error(result, exit_code=2) == f"Error: HOOKLINE_DATABASE_URL: {_message(query)}"


def _message(query: str) -> str:
    try:
        normalize_url(f"{PG_URL}?{query}")
    except ValueError as exc:
        return str(exc)
    raise AssertionError(f"{query} was accepted")
