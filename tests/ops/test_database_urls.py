"""Database URLs as users paste them: libpq's ``sslmode`` (what hosted PostgreSQL services hand
out), and SQLite URLs that cannot hold a queue."""

import asyncio

import asyncpg
import pytest
from sqlalchemy import text
from tests.conftest import PG_URL

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
    "query", ["sslmode=disable", "ssl=disable", "sslmode=prefer", "application_name=hl-wakeup&connect_timeout=5"]
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
