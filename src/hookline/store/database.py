"""Connections to SQLite or PostgreSQL, with a write path and a read path.

PostgreSQL goes through SQLAlchemy's asyncio engine (asyncpg).

SQLite is different: an in-process library whose statements take microseconds.
Handing each one to a thread (as aiosqlite does) costs far more than the work,
so SQLite statements run right on the event loop, through SQLAlchemy Core's sync
API. Only what can take long leaves the loop: a COMMIT that fsyncs runs in a
thread, and so does waiting for another hookline process's turn at the write
lock (store/writelock.py); another program's lock is an async retry. SQLite
allows one writer at a time, so writes go through one connection under an
asyncio lock and open with ``BEGIN IMMEDIATE``; reads use a small pool of their
own and, thanks to WAL, never wait for the writer.

Writes are group-committed: writers that arrive while a transaction is open
join it, each inside its own SAVEPOINT (so one writer's error undoes only its own
work), and all of them wait for the one COMMIT that makes their work durable.
Under load one fsync serves many requests; no writer returns before its commit.
"""

import asyncio
import contextlib
import errno
import os
import secrets
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

from sqlalchemy import Connection, Dialect, Executable, create_engine, event, text
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from hookline.store.pg_url import engine_args, ssl_named
from hookline.store.pg_url import pg_connect_args as pg_connect_args  # the wakeup listener reads it here
from hookline.store.writelock import ProcessWriteLock, WriteLockTimeoutError

DialectName = Literal["sqlite", "postgresql"]
WORK_CHANNEL = "hookline_work"
_READERS = 4
CHECKPOINT_SECONDS = 0.5
WAL_RESTART_PAGES = 16_384  # 64 MiB of 4 KiB pages


class DatabaseUnavailableError(Exception):
    """The database cannot be reached right now; the caller should retry later.

    ``code`` and ``detail`` are what an API client is told (with a 503).
    """

    code = "database_unavailable"
    detail = "the database is unavailable; retry later"
    retry_after = 1


class DatabaseBusyError(DatabaseUnavailableError):
    """Another process held SQLite's write lock for longer than the lock timeout."""

    code = "database_busy"
    detail = "the database is busy (another process holds the write lock); retry later"


class DatabaseFullError(DatabaseUnavailableError):
    """The disk holding the database is full: nothing new can be stored until space is freed."""

    code = "database_full"
    detail = "the database cannot store anything more (its disk is full); retry later"
    retry_after = 30


# What SQLite and PostgreSQL say when the disk is full.
_FULL_HINTS = ("database or disk is full", "no space left on device", "could not extend file", "disk full")


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, DatabaseFullError):
        return True
    text_ = str(exc).lower()
    return any(hint in text_ for hint in _FULL_HINTS)


class Conn(Protocol):
    """What store functions need of a connection: SQLAlchemy's AsyncConnection,
    or hookline's inline SQLite connection."""

    @property
    def dialect(self) -> Dialect: ...

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[*tuple[Any, ...]]: ...

    def begin_nested(self) -> AbstractAsyncContextManager[Any]: ...


def normalize_url(url: str) -> tuple[str, DialectName]:
    """Map a user-facing URL to its driver: ``sqlite:///x.db``, ``postgresql://...``."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:" or parsed.query.get("mode") == "memory":
            # Each connection would get a database of its own, and all of it is gone at exit.
            raise ValueError(
                "an in-memory SQLite database cannot hold hookline's queue: name a file (sqlite:///hookline.db)"
            )
        return parsed.set(drivername="sqlite").render_as_string(False), "sqlite"
    if backend == "postgresql":
        # libpq's sslmode, in the URLs hosted PostgreSQL services hand out, is asyncpg's ssl.
        query = ssl_named(dict(parsed.query))
        normalized = parsed.set(drivername="postgresql+asyncpg", query=query).render_as_string(False)
        pg_connect_args(normalized)  # a parameter asyncpg cannot honour fails here, with the URL's other faults
        return normalized, "postgresql"
    raise ValueError(f"unsupported database URL scheme {parsed.drivername!r}: use sqlite or postgresql")


def sqlite_file(url: str) -> Path | None:
    """The absolute path of a SQLite URL's database file (None for PostgreSQL, in-memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser().resolve()


# Writing this much beside the database file tells whether the disk can take more.
_PROBE_BYTES = 64 * 1024
_LOW_SPACE_BYTES = 1024 * 1024
FULL_REPORT_SECONDS = 30.0


def _probe_disk(directory: Path, failed_before: bool) -> str | None:
    try:
        stat = os.statvfs(directory)
        if stat.f_bavail * stat.f_frsize >= _LOW_SPACE_BYTES and not failed_before:
            return None
        # Little room left (reserved blocks and quotas make free space a guess): try for real.
        probe = directory / f".hookline-probe-{os.getpid()}"
        try:
            with open(probe, "wb") as f:
                f.write(b"\0" * _PROBE_BYTES)
                f.flush()
                os.fsync(f.fileno())
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        return "disk full" if exc.errno == errno.ENOSPC else f"cannot write beside the database: {exc.strerror}"
    return None


def now_ms() -> int:
    return int(time.time() * 1000)


_NOTIFY = text(f"SELECT pg_notify('{WORK_CHANNEL}', '')")
_origin: tuple[int, str] | None = None


def work_origin() -> str:
    """This process, as the work notifications it sends for publishes name it: it wakes its
    own engine directly (knowing the endpoints), so its own notifications are no news to it.
    Random, and new after a fork: worker processes must not take each other's for their own."""
    global _origin
    if _origin is None or _origin[0] != os.getpid():
        _origin = (os.getpid(), secrets.token_hex(8))
    return _origin[1]


async def notify_work(conn: Conn) -> None:
    """Tell listening workers (other processes) that deliveries are due; sent at commit."""
    if conn.dialect.name == "postgresql":
        await conn.execute(_NOTIFY)


class _InlineConnection:
    """A sync SQLAlchemy connection behind the async interface store code uses."""

    def __init__(self, conn: Connection) -> None:
        self.sync = conn

    @property
    def dialect(self) -> Dialect:
        return self.sync.dialect

    async def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[*tuple[Any, ...]]:
        return self.sync.execute(statement, parameters)

    @asynccontextmanager
    async def _nested(self) -> AsyncIterator[None]:
        with self.sync.begin_nested():
            yield

    def begin_nested(self) -> AbstractAsyncContextManager[Any]:
        return self._nested()


def _is_busy(exc: OperationalError) -> bool:
    text_ = str(exc.orig).lower()
    return "locked" in text_ or "busy" in text_


class _SQLite:
    def __init__(self, url: str, synchronous: str, lock_timeout: float = 10.0) -> None:
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        # The writer's COMMIT may run in the commit thread: allow cross-thread use.
        self.engine = create_engine(
            url, pool_size=_READERS + 1, max_overflow=0, connect_args={"check_same_thread": False}
        )
        self.fsync_commits = synchronous == "FULL"
        self.lock_timeout = lock_timeout

        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # BEGIN is ours to send
            # Checkpoints run in their own thread (see _checkpoints), not inside a COMMIT
            # that every waiting writer would have to wait for.
            for pragma in (
                "journal_mode=WAL",
                f"synchronous={synchronous}",
                "busy_timeout=100",
                "wal_autocheckpoint=0",
            ):
                dbapi_conn.execute(f"PRAGMA {pragma}")

        self._writer: Connection | None = None
        self._write_lock = asyncio.Lock()
        self._group: asyncio.Future[None] | None = None  # the open transaction's commit
        self._committer: asyncio.Task[None] | None = None
        self._readers: asyncio.LifoQueue[Connection] = asyncio.LifoQueue()
        self._reader_count = 0
        self._commit_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hookline-sqlite-commit")
        self._database_path = database
        # Other hookline processes on this file wait for it in the kernel (store/writelock.py).
        self._process_lock: ProcessWriteLock | None = None
        if database and database != ":memory:":
            self._process_lock = ProcessWriteLock(Path(database).expanduser().resolve())
        self._stop_checkpoints = threading.Event()
        self._wal_pages = 0  # the WAL's size in pages, as the last checkpoint saw it
        self._checkpointer: threading.Thread | None = None
        if database and database != ":memory:":
            self._checkpointer = threading.Thread(
                target=self._checkpoints, name="hookline-sqlite-checkpoint", daemon=True
            )
            self._checkpointer.start()

    def _checkpoints(self) -> None:
        """Copy the WAL into the database file now and then, beside the writers.

        A PASSIVE checkpoint never blocks readers or writers; one that cannot finish
        (a reader still needs old pages) simply finishes next time. What it reports of
        the WAL's size tells the writer when to empty it (``_commit_group``).
        """
        assert self._database_path is not None
        try:
            opened = sqlite3.connect(self._database_path, isolation_level=None)
        except sqlite3.Error:
            return  # the store's own first connection fails too, and says why in one line
        with contextlib.closing(opened) as conn:
            conn.execute("PRAGMA busy_timeout=100")
            while not self._stop_checkpoints.wait(CHECKPOINT_SECONDS):
                with contextlib.suppress(sqlite3.Error):
                    self._wal_pages = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]

    def _restart_wal(self, conn: Connection) -> None:
        # Under writes that never pause (a backlog being published or drained), a passive
        # checkpoint never finds the WAL fully copied when the next write begins, so SQLite
        # never starts it over: it grew to 4.8 GB while a million deliveries were queued.
        # Between two groups, holding the write lock, this copies what the last background
        # checkpoint left (about 1 ms), so the next group begins on a fully copied WAL and
        # SQLite writes it from its first page again. A TRUNCATE checkpoint did the same and
        # emptied the file, but it waits for readers, and took 23 ms with every writer
        # waiting: the slowest deliveries of a steady load (docs/benchmarks.md, eleventh
        # pass). A reader still in old pages only puts the restart off to the next time.
        driver = conn.connection.driver_connection
        assert driver is not None
        with contextlib.suppress(sqlite3.Error):
            driver.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _writer_conn(self) -> Connection:
        if self._writer is None:
            self._writer = self.engine.connect()
        return self._writer

    async def _begin_immediate(self, conn: Connection) -> None:
        """Open the write transaction: this process's turn at the lock other hookline
        processes wait for, then SQLite's own (for anything else writing the file)."""
        deadline = time.monotonic() + self.lock_timeout
        if self._process_lock is not None:
            try:
                await self._process_lock.acquire(self.lock_timeout)
            except WriteLockTimeoutError:
                raise self._busy() from None
        try:
            await self._sqlite_lock(conn, deadline)
        except BaseException:
            self._end_turn()
            raise

    async def _sqlite_lock(self, conn: Connection, deadline: float) -> None:
        delay = 0.002
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if not _is_busy(exc):
                    raise
                conn.rollback()
                if time.monotonic() >= deadline:
                    raise self._busy() from exc
                await asyncio.sleep(delay)  # another program writes: wait without blocking the loop
                delay = min(delay * 2, 0.1)

    def _busy(self) -> DatabaseBusyError:
        return DatabaseBusyError(f"another process held the SQLite write lock for over {self.lock_timeout:g} s")

    def _end_turn(self) -> None:
        """The write transaction is over (committed or rolled back): the next process's turn."""
        if self._process_lock is not None:
            self._process_lock.release()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[Conn]:
        async with self.joined() as (conn, group, _):
            yield conn
        await asyncio.shield(group)

    @asynccontextmanager
    async def joined(self) -> AsyncIterator[tuple[Conn, "asyncio.Future[None]", bool]]:
        """One writer of the current group: its connection, the group's commit (which fails
        with what the commit raised), and whether this writer opened the group (so that it
        read only what was committed, besides its own writes)."""
        async with self._write_lock:
            conn = self._writer_conn()
            opened = self._group is None
            if self._group is None:
                await self._begin_immediate(conn)
                self._group = asyncio.get_running_loop().create_future()
            group = self._group
            # Plain SQL savepoints, on the driver: SQLAlchemy's nested-transaction machinery
            # (and even its exec_driver_sql) costs more than the statements it wraps here.
            driver = conn.connection.driver_connection
            assert driver is not None
            driver.execute("SAVEPOINT hookline_writer")
            try:
                yield _InlineConnection(conn), group, opened
            except BaseException as exc:
                self._undo_writer(conn, group, exc)
                raise
            else:
                driver.execute("RELEASE SAVEPOINT hookline_writer")
            finally:
                # Commit the group even when this writer failed: an open transaction
                # holds SQLite's write lock against every other process.
                if self._committer is None or self._committer.done():
                    self._committer = asyncio.create_task(self._commit_group())

    def _undo_writer(self, conn: Connection, group: "asyncio.Future[None]", exc: BaseException) -> None:
        """Undo one failed writer's work; if SQLite already rolled the whole transaction
        back (a full disk can), every writer of the group failed with it."""
        try:
            conn.exec_driver_sql("ROLLBACK TO SAVEPOINT hookline_writer")
            conn.exec_driver_sql("RELEASE SAVEPOINT hookline_writer")
        except DBAPIError:
            if self._group is group:
                self._group = None
            with contextlib.suppress(DBAPIError):
                conn.rollback()
            self._end_turn()
            _fail(group, exc)

    async def _commit_group(self) -> None:
        await asyncio.sleep(0)  # let writers that are already waiting join this group
        async with self._write_lock:
            group, self._group = self._group, None
            if group is None:
                return
            conn = self._writer_conn()
            restart = self._wal_pages > WAL_RESTART_PAGES
            if restart:
                self._wal_pages = 0
            try:
                if self.fsync_commits or restart:
                    await asyncio.get_running_loop().run_in_executor(self._commit_thread, self._commit, conn, restart)
                else:
                    self._commit(conn, restart)
            except Exception as exc:
                _fail(group, exc)
                return
            group.set_result(None)

    def _commit(self, conn: Connection, restart: bool) -> None:
        """COMMIT (and let the WAL start over when due), then the next process's turn: in the commit
        thread, the turn passes when the fsync ends, not when this busy loop gets round to it."""
        try:
            conn.commit()
            if restart:
                self._restart_wal(conn)
        except Exception:
            with contextlib.suppress(DBAPIError):
                conn.rollback()
            raise
        finally:
            self._end_turn()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        if self._readers.empty() and self._reader_count < _READERS:
            self._reader_count += 1
            self._readers.put_nowait(self.engine.connect())
        conn = await self._readers.get()
        try:
            conn.exec_driver_sql("BEGIN")
            try:
                yield _InlineConnection(conn)
            finally:
                conn.rollback()  # read-only: ending the snapshot is all there is to do
        finally:
            self._readers.put_nowait(conn)

    async def run_sync(self, fn: Callable[[Connection], None]) -> None:
        async with self._write_lock:
            if self._group is not None:
                raise RuntimeError("run_sync while writes are in progress")
            conn = self._writer_conn()
            await self._begin_immediate(conn)
            try:
                fn(conn)
            except BaseException:
                conn.rollback()
                raise
            else:
                conn.commit()
            finally:
                self._end_turn()

    async def close(self) -> None:
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join(timeout=5)
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._process_lock is not None:
            self._process_lock.close()
        while not self._readers.empty():
            self._readers.get_nowait().close()
        self._reader_count = 0
        self._commit_thread.shutdown(wait=True)
        self.engine.dispose()


def _fail(group: "asyncio.Future[None]", exc: BaseException) -> None:
    if not group.done():
        group.set_exception(exc)
        group.exception()  # the writers waiting on it raise it; none waiting is no error


def is_disconnect(exc: BaseException) -> bool:
    """True when ``exc`` means the database went away rather than a bad query."""
    if isinstance(exc, (DatabaseUnavailableError, PoolTimeoutError)):
        return True  # every pooled connection stayed busy for the pool's timeout: try later
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


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` says the database cannot take writes now (gone, busy or full), so
    that the same write should simply be tried again later."""
    return is_disconnect(exc) or is_disk_full(exc)


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Hand out no connection the server has closed (a restart, an idle timeout): the pool
    drops it and checks out another. SQLAlchemy's ``pool_pre_ping`` would tell the same with
    three round trips (BEGIN, a query, ROLLBACK) before every transaction, a third of a
    publish's; asyncpg already knows when the server closed the socket."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def _plan_afresh(dbapi_connection: Any, _record: Any) -> None:
    """Plan every statement of this connection for the tables as they are (for_retrying_loops).
    A ``SET`` once per new connection rather than a startup parameter, which a pooler such as
    PgBouncer refuses unless told to ignore it."""
    dbapi_connection.run_async(lambda driver: driver.execute("SET plan_cache_mode = force_custom_plan"))


# How often a process waiting for another's migrations asks for their lock again.
_EXCLUSIVE_POLL_SECONDS = 0.2


async def _unlock(pg_conn: AsyncConnection, lock_key: int) -> None:
    """Release a session advisory lock; if the connection cannot, end its session, which does."""
    try:
        await pg_conn.rollback()
        await pg_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_key})
        await pg_conn.commit()
    except DBAPIError:
        await pg_conn.invalidate()


async def _commit_later(transaction: AbstractAsyncContextManager[Conn], committed: "asyncio.Future[None]") -> None:
    """End ``transaction`` (a ``write_early`` on PostgreSQL) and say how in ``committed``."""
    try:
        await transaction.__aexit__(None, None, None)
    except Exception as exc:
        _fail(committed, exc)
    except BaseException:
        committed.cancel()
        raise
    else:
        committed.set_result(None)


class Database:
    """The one object that hands out connections."""

    def __init__(
        self,
        url: str,
        *,
        sqlite_synchronous: str = "FULL",
        pool_size: int = 10,
        lock_timeout: float = 10.0,
        custom_plans: bool = False,
    ) -> None:
        self.url, self.dialect = normalize_url(url)
        self._sqlite: _SQLite | None = None
        # When a write last failed for want of disk space (monotonic seconds); None once one succeeds.
        self.full_since: float | None = None
        self._commits: set[asyncio.Task[None]] = set()  # write_early's, on PostgreSQL
        if self.dialect == "sqlite":
            self._sqlite = _SQLite(self.url, sqlite_synchronous, lock_timeout)
        else:
            engine_url, connect_args = engine_args(self.url)
            self._pg = create_async_engine(engine_url, pool_size=pool_size, max_overflow=0, connect_args=connect_args)
            event.listen(self._pg.sync_engine, "checkout", _refuse_closed)
            if custom_plans:
                event.listen(self._pg.sync_engine, "connect", _plan_afresh)
            # The same pool; a connection checked out here runs without a transaction.
            self._pg_autocommit = self._pg.execution_options(isolation_level="AUTOCOMMIT")

    def for_retrying_loops(self) -> "Database":
        """A handle for loops that retry every failed transaction by themselves (the delivery
        engine). On PostgreSQL it is a small pool of its own, so requests never wait for the
        engine's connections nor the engine for theirs, and it plans every statement for the
        tables as they are at that moment (``plan_cache_mode = force_custom_plan``).

        Why: the driver prepares each statement once per connection, and after five runs
        PostgreSQL may keep a generic plan, costed on the statistics of that moment. The
        queue's tables go from empty to a backlog of millions between two autovacuum
        analyses; a generic plan made while they were small seq-scans them on every claim
        and record until the next analysis (seen in the benchmark: each lease read all of
        ``delivery`` and ``message``, 0.4 ms of PostgreSQL CPU per delivery;
        docs/benchmarks.md). A custom plan is costed on the table's current size each time,
        for a fraction of a millisecond of planning per statement.

        On SQLite: this same database (one writer, one group commit; SQLite plans each
        statement without statistics, from its indexes)."""
        if self._sqlite is not None:
            return self
        return Database(self.url, pool_size=2, custom_plans=True)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, absolute; None for PostgreSQL or an in-memory database."""
        return sqlite_file(self.url)

    def write(self) -> AbstractAsyncContextManager[Conn]:
        """A transaction that may write; committed when the block exits cleanly."""
        return self._writing(transaction=True)

    @asynccontextmanager
    async def write_early(self) -> AsyncIterator[tuple[Conn, "asyncio.Future[None]"]]:
        """``write()`` for writes whose loss is harmless (a lease: its delivery is due again),
        and the future of their commit, which fails with what the commit raised. The caller
        awaits it before its next such write, which must see these.

        On PostgreSQL the block ends once its statements ran, and the COMMIT runs beside
        what the caller does next: until it ends, other connections see none of it (a claim
        still holds its endpoints' locks). On SQLite, likewise when this write opens its
        group: this process's later writes see it at once, other connections once the
        future is done. A write that joins an open SQLite group saw that group's
        uncommitted rows (a publish that may yet fail), so it ends committed, as ``write()``
        does. (PostgreSQL reads only what is committed.)"""
        if self._sqlite is not None:
            async with self._sqlite.joined() as (conn, group, opened):
                yield conn, group
            if not opened:
                await asyncio.shield(group)
            return
        transaction = self.write()
        conn = await transaction.__aenter__()
        try:
            yield conn, (committed := asyncio.get_running_loop().create_future())
        except BaseException as exc:
            await transaction.__aexit__(type(exc), exc, exc.__traceback__)  # rolls back
            raise
        commit = asyncio.create_task(_commit_later(transaction, committed))
        self._commits.add(commit)  # close() waits for it
        commit.add_done_callback(self._commits.discard)

    @property
    def shares_early_writes(self) -> bool:
        """Whether this process's later writes see a ``write_early``'s rows before it commits.
        On SQLite they do (one connection writes them all). On PostgreSQL they do not: an
        update fenced on those rows, made before the commit, would find nothing to update."""
        return self._sqlite is not None

    def autocommit(self) -> AbstractAsyncContextManager[Conn]:
        """Writes made of one statement each, with no transaction around them.

        On PostgreSQL each statement commits on its own: no ``BEGIN`` and no ``COMMIT``
        round trip, a third of a publish's. Only for work whose writes are one statement;
        what is read before it is what any READ COMMITTED transaction would have read.
        On SQLite this is ``write()``: a group-committed transaction costs nothing more.
        """
        return self._writing(transaction=False)

    @asynccontextmanager
    async def _writing(self, *, transaction: bool) -> AsyncIterator[Conn]:
        try:
            if self._sqlite is not None:
                async with self._sqlite.write() as conn:
                    yield conn
            else:
                async with self._pg.begin() if transaction else self._pg_autocommit.connect() as pg_conn:
                    yield pg_conn
        except Exception as exc:
            if is_disk_full(exc):
                self.full_since = time.monotonic()
                if not isinstance(exc, DatabaseFullError):
                    raise DatabaseFullError(str(exc)) from exc
            raise
        self.full_since = None

    async def reachable(self) -> bool:
        """Whether a trivial query succeeds now: tells an outage from a statement that the
        database refuses for what it holds."""
        try:
            async with self.read() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def writable(self) -> str | None:
        """Why nothing can be written now, or None. A failed write says so for
        ``FULL_REPORT_SECONDS`` unless one succeeds; on SQLite the disk is also probed."""
        path = self.sqlite_path
        if path is not None:
            return await asyncio.to_thread(_probe_disk, path.parent, self.full_since is not None)
        if self.full_since is not None and time.monotonic() - self.full_since < FULL_REPORT_SECONDS:
            return "disk full"
        return None

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Conn]:
        if self._sqlite is not None:
            async with self._sqlite.read() as conn:
                yield conn
            return
        async with self._pg.begin() as pg_conn:
            yield pg_conn

    async def run_exclusive(self, fn: Callable[[Connection], None], lock_key: int) -> None:
        """Run ``fn`` on a plain SQLAlchemy connection, one process at a time (migrations).

        SQLite: in one transaction, under the write lock. PostgreSQL: outside any transaction,
        so that ``fn`` commits its own and may run statements that refuse a transaction block
        (``CREATE INDEX CONCURRENTLY``), under the session advisory lock ``lock_key``. That
        lock is waited for between short statements, never inside one: a statement waiting
        holds a snapshot, and ``CREATE INDEX CONCURRENTLY`` in the process holding the lock
        waits for every older snapshot, so each process would wait for the other.
        """
        if self._sqlite is not None:
            await self._sqlite.run_sync(fn)
            return
        pg_conn: AsyncConnection
        async with self._pg.connect() as pg_conn:
            while not await pg_conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": lock_key}):
                await pg_conn.commit()
                await asyncio.sleep(_EXCLUSIVE_POLL_SECONDS)
            await pg_conn.commit()
            try:
                await pg_conn.run_sync(fn)
                await pg_conn.commit()
            finally:
                await _unlock(pg_conn, lock_key)

    async def close(self) -> None:
        if self._commits:
            await asyncio.gather(*self._commits, return_exceptions=True)
        if self._sqlite is not None:
            await self._sqlite.close()
        else:
            await self._pg.dispose()
