"""Run Alembic migrations from inside hookline (no alembic.ini needed)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.exc import ArgumentError, DBAPIError

from hookline.store.database import Database, DatabaseUnavailableError, normalize_url, sqlite_file

_SCRIPTS = Path(__file__).with_name("migrations")
# Any constant: serializes concurrent `hookline serve` starts on one PostgreSQL.
_MIGRATION_LOCK = 7_461_001


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


async def migrate(db: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision``; safe to run from several processes at once."""
    await db.run_exclusive(lambda connection: command.upgrade(alembic_config(connection), revision), _MIGRATION_LOCK)


async def downgrade(db: Database, revision: str) -> None:
    """Take the schema back down to ``revision``."""
    await db.run_exclusive(lambda connection: command.downgrade(alembic_config(connection), revision), _MIGRATION_LOCK)


class DatabaseSetupError(Exception):
    """The database URL cannot be used (unparsable, unsupported, unreachable, missing): one line why."""


def open_database(url: str, *, existing: bool = False, **options: Any) -> Database:
    """A ``Database`` for ``url``; with ``existing``, refuse to create a new SQLite file."""
    check_database_url(url, existing=existing)
    try:
        return Database(url, **options)
    except Exception as exc:  # any failure to build a connection pool is a bad URL
        raise DatabaseSetupError(_first_line(exc)) from exc


def check_database_url(url: str, *, existing: bool = False) -> None:
    """Raise DatabaseSetupError if ``url`` cannot name a database (or, with ``existing``,
    names a SQLite file that does not exist yet)."""
    try:
        path = sqlite_file(normalize_url(url)[0])
    except ArgumentError as exc:
        raise DatabaseSetupError("cannot parse it as a URL: use sqlite:///path.db or postgresql://...") from exc
    except ValueError as exc:
        raise DatabaseSetupError(_first_line(exc)) from exc
    if existing and path is not None and not path.exists():
        raise DatabaseSetupError(f"no database at {path}; start `hookline serve` or run `hookline migrate` first")


@asynccontextmanager
async def migrated_database(url: str, *, existing: bool = False, **options: Any) -> AsyncIterator[Database]:
    """Open the database, bring its schema up to date, and close it after the block."""
    db = open_database(url, existing=existing, **options)
    try:
        try:
            await migrate(db)
        except DatabaseUnavailableError:
            raise
        except Exception as exc:  # connecting failed: say why in one line, not a traceback
            raise DatabaseSetupError(_first_line(exc)) from exc
        yield db
    finally:
        await db.close()


def _first_line(exc: BaseException) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(cause).strip().splitlines()
    return (lines[0] if lines else type(cause).__name__).rstrip(".")
