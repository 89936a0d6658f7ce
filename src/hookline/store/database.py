"""Connections to SQLite or PostgreSQL, with a write path and a read path.

SQLite allows one writer at a time. Rather than let concurrent writers collide
on ``database is locked``, every write goes through a pool of exactly one
connection that opens its transactions with ``BEGIN IMMEDIATE``; reads use
their own small pool and, thanks to WAL, never wait for the writer.
"""

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

Dialect = Literal["sqlite", "postgresql"]
WORK_CHANNEL = "hookline_work"


class DatabaseUnavailableError(Exception):
    """The database cannot be reached right now; the caller should retry later."""


def normalize_url(url: str) -> tuple[str, Dialect]:
    """Map a user-facing URL to its async driver: ``sqlite:///x.db``, ``postgresql://...``."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(False), "sqlite"
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(False), "postgresql"
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}: use sqlite or postgresql")


def now_ms() -> int:
    return int(time.time() * 1000)


def _sqlite_engine(url: str, *, pool_size: int, begin: str, synchronous: str) -> AsyncEngine:
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=60)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take control of transactions away from the driver so BEGIN is ours.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql(begin)

    return engine


async def notify_work(conn: AsyncConnection) -> None:
    """Tell listening workers (other processes) that deliveries are due; sent at commit."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": WORK_CHANNEL})


def is_disconnect(exc: BaseException) -> bool:
    """True when ``exc`` means the database went away rather than a bad query."""
    if isinstance(exc, DatabaseUnavailableError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, (ConnectionError, OSError)):
        return True
    text = str(exc).lower()
    return any(
        hint in text
        for hint in (
            "connection refused",
            "connection was closed",
            "connection is closed",
            "cannot connect",
            "terminating connection",
            "the database system is",
            "connection reset",
            "server closed the connection",
        )
    )


class Database:
    """The one object that hands out connections."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10) -> None:
        self.url, self.dialect = normalize_url(url)
        if self.dialect == "sqlite":
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
            self._writer = _sqlite_engine(
                self.url, pool_size=1, begin="BEGIN IMMEDIATE", synchronous=sqlite_synchronous
            )
            self._reader = _sqlite_engine(self.url, pool_size=4, begin="BEGIN", synchronous=sqlite_synchronous)
        else:
            self._writer = create_async_engine(
                self.url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self._reader = self._writer

    @property
    def engine(self) -> AsyncEngine:
        return self._writer

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that may write; committed when the block exits cleanly."""
        async with self._writer.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self._reader.begin() as conn:
            yield conn

    async def close(self) -> None:
        await self._writer.dispose()
        if self._reader is not self._writer:
            await self._reader.dispose()
