"""Database URLs as users paste them: libpq's ``sslmode`` (what hosted PostgreSQL services hand
out), and SQLite URLs that cannot hold a queue."""

import asyncio

import asyncpg
import pytest
from tests.conftest import PG_URL

from hookline.delivery.wakeup import PgWakeups
from hookline.store.database import normalize_url


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


@pytest.mark.parametrize("query", ["sslmode=disable", "ssl=disable", "sslmode=prefer"])
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
