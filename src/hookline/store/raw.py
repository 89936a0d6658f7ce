"""The hottest statements, run on the driver itself (sqlite3, asyncpg).

Every publish, claim and record runs a handful of small statements. Through SQLAlchemy
Core each one costs 40 to 60 µs of Python (cache keys, execution contexts, result
processing) for a few µs of database work: under load that was a quarter of hookline's
CPU (docs/benchmarks.md). The statements here are written once as SQL text with
``:name`` parameters and handed straight to the driver, inside the transaction the
caller already holds. Everything else keeps using SQLAlchemy Core.

What SQLAlchemy did for these statements is done here: JSON columns are encoded by the
caller (``json_text``: ``None`` becomes JSON ``null``, as SQLAlchemy's ``JSON`` stores it)
and decoded on SQLite by ``rows(..., json=...)`` (asyncpg decodes them itself, with the
codec SQLAlchemy installs on each connection); SQLite booleans come back as 0/1 and are
read with ``bool()`` by the caller; driver errors are raised as SQLAlchemy's, so callers
and the API's error handlers see one family of exceptions.
"""

import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from hookline.domain.json_text import loads as json_loads
from hookline.store.database import Conn

_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


class Statement:
    """One statement for both databases: ``sql`` with ``:name`` parameters, or one text
    per database where they differ (lists: ``json_each`` on SQLite, ``ANY`` on PostgreSQL)."""

    def __init__(self, sql: str, *, sqlite: str | None = None, postgresql: str | None = None) -> None:
        self.sqlite = sqlite or sql
        self.postgresql_named = postgresql or sql  # before numbering: to build larger statements
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            if match.group(1) not in names:
                names.append(match.group(1))
            return f"${names.index(match.group(1)) + 1}"

        self.postgresql = _PARAM.sub(number, postgresql or sql)
        self.names = tuple(names)

    @classmethod
    def insert(cls, table: str, columns: Sequence[str]) -> "Statement":
        """``INSERT INTO table (columns) VALUES (:column, ...)``."""
        names, values = ", ".join(columns), ", ".join(":" + c for c in columns)
        return cls(f"INSERT INTO {table} ({names}) VALUES ({values})")  # noqa: S608 - our own names

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        return [params[name] for name in self.names]


def insert_from_arrays(
    table: str, columns: Sequence[str], *, prefix: str, types: Mapping[str, str], json: Sequence[str] = ()
) -> str:
    """PostgreSQL: ``INSERT INTO table`` of many rows at once, from one array parameter per
    column (``:{prefix}{column}``, of ``types[column]``, text by default; JSON columns travel
    as text and are cast per element). A statement of fixed text, whatever the row count."""
    names = ", ".join(columns)
    arrays = ", ".join(f"CAST(:{prefix}{c} AS {types.get(c, 'text')}[])" for c in columns)
    values = ", ".join(f"CAST(u.{c} AS json)" if c in json else f"u.{c}" for c in columns)
    return f"INSERT INTO {table} ({names}) SELECT {values} FROM unnest({arrays}) AS u({names})"  # noqa: S608


def json_text(value: object) -> str:
    """A JSON column's value as its driver takes it."""
    return orjson.dumps(value).decode()


def id_list(conn: Conn, ids: Iterable[str]) -> Any:
    """A list parameter: JSON text for SQLite's ``json_each``, an array for PostgreSQL."""
    values = list(ids)
    return values if conn.dialect.name == "postgresql" else json_text(values)


def _sqlite(conn: Conn) -> sqlite3.Connection:
    return conn.sync.connection.driver_connection  # type: ignore[attr-defined, no-any-return]


async def _asyncpg(conn: Conn) -> Any:
    fairy = await conn.get_raw_connection()  # type: ignore[attr-defined]
    adapted = fairy.dbapi_connection
    # SQLAlchemy's asyncpg adapter opens its transaction lazily, on its first statement;
    # a statement of ours may be the first, and must not run outside the transaction.
    # (SQLAlchemy 2.1: ``_transaction`` is None until then; autocommit never opens one.)
    if adapted._transaction is None:
        await adapted._start_transaction()
    return adapted.driver_connection


def _translate(exc: Exception, sql: str) -> DBAPIError:
    name = type(exc).__name__
    if isinstance(exc, sqlite3.IntegrityError) or name.endswith("ViolationError"):
        return IntegrityError(sql, None, exc)
    return OperationalError(sql, None, exc)


_DRIVER_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error,)
try:
    import asyncpg

    _DRIVER_ERRORS = (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError)
except ImportError:  # pragma: no cover - asyncpg is a dependency
    pass


async def rows(conn: Conn, statement: Statement, params: Mapping[str, Any], *, json: Sequence[int] = ()) -> list[Any]:
    """The rows (tuples) of a query; on SQLite the columns at ``json`` positions are decoded."""
    try:
        if conn.dialect.name == "postgresql":
            return list(await (await _asyncpg(conn)).fetch(statement.postgresql, *statement.args(params)))
        found = _sqlite(conn).execute(statement.sqlite, params).fetchall()
    except _DRIVER_ERRORS as exc:
        raise _translate(exc, statement.sqlite) from exc
    if json:
        found = [_decode(row, json) for row in found]
    return found


def _decode(row: tuple[Any, ...], json: Sequence[int]) -> tuple[Any, ...]:
    values = list(row)
    for i in json:
        if values[i] is not None:
            values[i] = json_loads(values[i])
    return tuple(values)


async def execute(conn: Conn, statement: Statement, params: Mapping[str, Any]) -> int:
    """Run a statement; how many rows it changed."""
    try:
        if conn.dialect.name == "postgresql":
            status = await (await _asyncpg(conn)).execute(statement.postgresql, *statement.args(params))
            return int(status.rsplit(" ", 1)[-1]) if status[-1:].isdigit() else 0
        return _sqlite(conn).execute(statement.sqlite, params).rowcount
    except _DRIVER_ERRORS as exc:
        raise _translate(exc, statement.sqlite) from exc


async def execute_many(conn: Conn, statement: Statement, params: Sequence[Mapping[str, Any]]) -> None:
    """Run a statement once per parameter set, in one call to the driver."""
    if not params:
        return
    try:
        if conn.dialect.name == "postgresql":
            await (await _asyncpg(conn)).executemany(statement.postgresql, [statement.args(p) for p in params])
        else:
            _sqlite(conn).executemany(statement.sqlite, params)
    except _DRIVER_ERRORS as exc:
        raise _translate(exc, statement.sqlite) from exc


@contextmanager
def savepoint(conn: Conn) -> Iterator[None]:
    """SQLite: undo the block's statements if it fails, and only them (the transaction goes on)."""
    driver = _sqlite(conn)
    driver.execute("SAVEPOINT hookline_part")
    try:
        yield
    except BaseException:
        driver.execute("ROLLBACK TO SAVEPOINT hookline_part")
        driver.execute("RELEASE SAVEPOINT hookline_part")
        raise
    driver.execute("RELEASE SAVEPOINT hookline_part")
