"""Run Alembic migrations from inside hookline (no alembic.ini needed)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from hookline.store.database import Database

_SCRIPTS = Path(__file__).with_name("migrations")
# Any constant: serializes concurrent `hookline serve` starts on one PostgreSQL.
_MIGRATION_LOCK = 7_461_001


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
    command.upgrade(alembic_config(connection), "head")


async def migrate(db: Database) -> None:
    """Bring the schema up to date; safe to run from several processes at once."""
    await db.run_sync(_upgrade)
