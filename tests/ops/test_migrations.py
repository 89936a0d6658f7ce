"""The migrations: the schema they build is the one the code declares, they go down and back
up with data in the tables, and on PostgreSQL they change a live queue's indexes without
stopping its writers (migrations/indexes.py)."""

import asyncio
import re
from typing import Any

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, insert, inspect, select
from tests.support.store import endpoint_fields

from hookline.domain.ids import new_id
from hookline.store import applications
from hookline.store.database import Database
from hookline.store.messages import new_delivery
from hookline.store.migrate import downgrade, migrate
from hookline.store.tables import metadata

# The last revision before the queue's partial indexes (0016, 0017).
BEFORE_PARTIAL_INDEXES = "0015"


def _predicate(where: Any) -> str | None:
    """An index's WHERE as comparable text: ``(next_attempt_at IS NOT NULL)`` and the
    declared ``next_attempt_at IS NOT NULL`` alike."""
    if where is None:
        return None
    return re.sub(r"[()\s]+", " ", str(where)).strip().lower()


def _differences(conn: Connection) -> list[Any]:
    """What Alembic's comparison finds between the database and tables.py, plus every index
    whose partial condition differs (which that comparison does not look at)."""
    found: list[Any] = list(compare_metadata(MigrationContext.configure(conn), metadata))
    dialect = conn.dialect.name
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        actual = {ix["name"]: ix for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            declared = _predicate(index.dialect_options[dialect].get("where"))
            present = actual.get(index.name)
            options: dict[str, Any] = dict(present.get("dialect_options", {})) if present else {}
            if present is None or _predicate(options.get(f"{dialect}_where")) != declared:
                found.append(("index condition", index.name, declared, options.get(f"{dialect}_where")))
    return found


async def _schema_differences(db: Database) -> list[Any]:
    out: list[Any] = []
    await db.run_exclusive(lambda conn: out.extend(_differences(conn)), lock_key=1)
    return out


async def _queue(db: Database, count: int) -> str:
    """An application with one endpoint and ``count`` deliveries due for it; its id. Written
    with the columns of revision BEFORE_PARTIAL_INDEXES only (the store's own statements name
    columns added since)."""
    tables = metadata.tables
    async with db.write() as conn:
        app = await applications.create(conn, {"name": "migrations", "metadata": {}})
        endpoint_id = new_id("ep")
        endpoint = {"id": endpoint_id, "app_id": app.id, "old_secrets": [], "created_at": 0, "updated_at": 0}
        await conn.execute(insert(tables["endpoint"]).values(**endpoint, **endpoint_fields(0)))
        for _ in range(count):
            msg_id = new_id("msg")
            message = {"id": msg_id, "app_id": app.id, "event_type": "e", "payload": b"{}", "created_at": 0}
            await conn.execute(insert(tables["message"]).values(**message, payload_expires_at=0))
            await conn.execute(insert(tables["delivery"]).values(new_delivery(msg_id, endpoint_id, app.id, 0)))
    return app.id


async def _deliveries(db: Database) -> int:
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(metadata.tables["delivery"]))).scalar_one())


def test_the_migrations_build_the_schema_the_code_declares(empty_database_url: str) -> None:
    async def scenario() -> None:
        db = Database(empty_database_url)
        try:
            await migrate(db)
            assert await _schema_differences(db) == []
        finally:
            await db.close()

    asyncio.run(scenario())


def test_the_schema_goes_down_and_back_up_with_deliveries_in_it(empty_database_url: str) -> None:
    async def scenario() -> None:
        db = Database(empty_database_url)
        try:
            await migrate(db)
            await _queue(db, 25)
            await downgrade(db, BEFORE_PARTIAL_INDEXES)
            assert await _schema_differences(db) != []  # the control: the comparison sees the old indexes
            await migrate(db)
            assert await _schema_differences(db) == []
            assert await _deliveries(db) == 25
        finally:
            await db.close()

    asyncio.run(scenario())


def test_two_processes_starting_at_once_upgrade_once(empty_database_url: str) -> None:
    """Two ``hookline serve`` starting together on a database with a queue: one upgrades, the
    other waits for it. On PostgreSQL the one that waits does so between short statements: a
    statement waiting for the lock would hold a snapshot that the other's concurrent index
    builds wait for, and each would wait for the other."""

    async def scenario() -> None:
        first, second = Database(empty_database_url), Database(empty_database_url)
        try:
            await migrate(first, BEFORE_PARTIAL_INDEXES)
            await _queue(first, 5)
            await asyncio.wait_for(asyncio.gather(migrate(first), migrate(second)), 120)
            assert await _schema_differences(second) == []
            assert await _deliveries(second) == 5
        finally:
            await first.close()
            await second.close()

    asyncio.run(scenario())


async def _index_changes_waiting(admin: asyncpg.Connection, database: str) -> list[str]:
    rows = await admin.fetch(
        "SELECT wait_event, query FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'"
        " AND query ~* '^\\s*(CREATE|DROP) INDEX'",
        database,
    )
    return [f"{row['wait_event']}: {row['query']}" for row in rows]


@pytest.mark.parametrize("empty_database_url", ["postgresql"], indirect=True)
def test_an_upgrade_builds_the_queue_indexes_while_publishes_go_on(empty_database_url: str) -> None:
    """PostgreSQL only: SQLite's upgrade holds its one write lock, as every writer does.

    A transaction that has written to ``delivery`` stays open, so the upgrade's index build
    waits for it. Meanwhile another connection inserts a delivery, with a lock timeout.
    Behind a plain ``CREATE INDEX`` (a SHARE lock, queued) that insert would wait and fail;
    behind ``CREATE INDEX CONCURRENTLY`` it goes through. Then the transaction ends and the
    upgrade finishes, with valid indexes."""

    async def scenario() -> None:
        db = Database(empty_database_url)
        database = empty_database_url.rsplit("/", 1)[1]
        plain_url = empty_database_url.replace("postgresql+asyncpg://", "postgresql://")
        holder = await asyncpg.connect(plain_url)
        writer = await asyncpg.connect(plain_url)
        admin = await asyncpg.connect(plain_url)
        try:
            await migrate(db, BEFORE_PARTIAL_INDEXES)
            app_id = await _queue(db, 3)
            await holder.execute("BEGIN")
            await holder.execute("UPDATE delivery SET updated_at = updated_at + 1 WHERE app_id = $1", app_id)
            upgrade = asyncio.create_task(migrate(db))
            for _ in range(300):
                waiting = await _index_changes_waiting(admin, database)
                if waiting or upgrade.done():
                    break
                await asyncio.sleep(0.1)
            assert not upgrade.done(), "the upgrade did not wait for the open transaction"
            assert waiting, "no index change is waiting"
            await writer.execute("SET lock_timeout = '5s'")
            # A publish: a new message and its delivery.
            await writer.execute(
                "INSERT INTO message (id, app_id, event_type, payload, created_at, payload_expires_at)"
                " VALUES ('during', $1, 'e', '{}', 0, 0)",
                app_id,
            )
            await writer.execute(
                "INSERT INTO delivery (id, msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, trigger,"
                " created_at, updated_at) SELECT 'during', 'during', endpoint_id, app_id, 1, 0, 0, 0, 0, 0"
                " FROM delivery LIMIT 1"
            )
            await holder.execute("COMMIT")
            await asyncio.wait_for(upgrade, 60)
            invalid = await admin.fetch(
                "SELECT indexrelid::regclass::text AS name FROM pg_index"
                " WHERE indrelid = 'delivery'::regclass AND NOT indisvalid"
            )
            assert [row["name"] for row in invalid] == []
            assert await _schema_differences(db) == []
            assert await _deliveries(db) == 4
        finally:
            for conn in (holder, writer, admin):
                await conn.close()
            await db.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("empty_database_url", ["postgresql"], indirect=True)
def test_an_upgrade_after_a_failed_index_build_finishes_it(empty_database_url: str) -> None:
    """PostgreSQL only (SQLite's index builds are inside the upgrade's transaction): a build
    that failed half-way leaves an invalid index under the temporary name; the next upgrade
    drops it and builds the index."""

    async def scenario() -> None:
        db = Database(empty_database_url)
        admin = await asyncpg.connect(empty_database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            await migrate(db, BEFORE_PARTIAL_INDEXES)
            await _queue(db, 3)
            # A unique index over a column with repeated values fails, and stays behind, invalid.
            with pytest.raises(asyncpg.UniqueViolationError):
                await admin.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_delivery_due_building ON delivery (app_id)")
            left = await admin.fetchval(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_delivery_due_building'::regclass"
            )
            assert left is False
            await migrate(db)
            assert await admin.fetchval("SELECT to_regclass('ix_delivery_due_building')") is None
            assert await _schema_differences(db) == []
        finally:
            await admin.close()
            await db.close()

    asyncio.run(scenario())
