"""The statements run on the driver (store/raw.py) and the connections they run on."""

import asyncio

import asyncpg
import pytest
from sqlalchemy import select
from tests.conftest import _pg_admin_url

from hookline.store import applications, database, event_types, messages, raw
from hookline.store import tables as t
from hookline.store.database import Database
from hookline.store.errors import ConflictError
from hookline.store.migrate import migrate


def test_parameters_are_numbered_for_postgresql_in_order_of_first_use() -> None:
    statement = raw.Statement("SELECT a FROM x WHERE b = :b AND c = :c OR d = :b AND e::text = 'f:g'")
    assert statement.postgresql == "SELECT a FROM x WHERE b = $1 AND c = $2 OR d = $1 AND e::text = 'f:g'"
    assert statement.names == ("b", "c")
    assert statement.args({"c": 2, "b": 1, "unused": 3}) == [1, 2]


async def _fresh(database_url: str) -> Database:
    db = Database(database_url)
    await migrate(db)
    return db


def test_rows_written_on_the_driver_read_back_as_sqlalchemy_wrote_them(database_url: str) -> None:
    """JSON nulls stay JSON ``null`` (as SQLAlchemy's JSON type stores them), lists and
    objects round-trip, and a repeated event id is still a conflict."""

    async def scenario() -> None:
        db = await _fresh(database_url)
        try:
            async with db.write() as conn:
                app = await applications.create(conn, {"name": "a", "uid": "a", "metadata": {}})
                found = await applications.find(conn, "a")
                assert found is not None and found.id == app.id and found.metadata == {} and found.internal is False
                await event_types.create(conn, {"name": "x.y", "description": "", "schemas": {"1": {"type": "object"}}})
                known = await event_types.find(conn, "x.y")
                assert known is not None and known.schemas == {"1": {"type": "object"}} and known.archived is False
                new = messages.NewMessage(
                    app_id=app.id, event_type="x.y", payload=b'{"k":1}', event_id="e1", channels=["c1"]
                )
                message, _ = await messages.create(conn, new)
            async with db.read() as conn:
                row = (await conn.execute(select(t.message).where(t.message.c.id == message.id))).mappings().one()
            assert (row["payload"], row["channels"], row["tags"], row["headers"]) == (b'{"k":1}', ["c1"], None, None)
            with pytest.raises(ConflictError):
                async with db.write() as conn:
                    await messages.create(conn, new)
        finally:
            await db.close()

    asyncio.run(scenario())


def test_a_connection_the_server_closed_is_not_handed_out(pg_database_url: str) -> None:
    """Without a ping per transaction: the pool sees that PostgreSQL closed an idle
    connection (a restart, an idle timeout) and hands out a fresh one instead."""

    async def scenario() -> None:
        db = await _fresh(pg_database_url)
        try:
            async with db.write() as conn:
                await applications.create(conn, {"name": "a", "uid": "a", "metadata": {}})
            admin = await asyncpg.connect(_pg_admin_url())
            try:
                name = pg_database_url.rsplit("/", 1)[1]
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1", name
                )
            finally:
                await admin.close()
            assert killed >= 1
            for _ in range(50):  # the event loop reads the server's goodbye
                await asyncio.sleep(0.02)
            async with db.write() as conn:
                assert await applications.find(conn, "a") is not None
        finally:
            await db.close()

    asyncio.run(scenario())


def test_the_sqlite_wal_is_emptied_while_writes_never_pause(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes back to back (a backlog being published or drained): a passive checkpoint
    never finds the WAL fully copied when the next write begins, so SQLite never starts it
    over and it grows as large as everything written. Past the limit the writer copies the
    rest between two groups, and SQLite writes the WAL from its first page again."""
    monkeypatch.setattr(database, "CHECKPOINT_SECONDS", 0.02)
    monkeypatch.setattr(database, "WAL_RESTART_PAGES", 256)
    path = tmp_path / "wal.db"

    async def scenario() -> tuple[int, int]:
        db = await _fresh(f"sqlite:///{path}")
        blob = "x" * 20_000
        largest = written = 0
        try:
            for n in range(1500):
                async with db.write() as conn:
                    await applications.create(conn, {"name": blob, "uid": f"a{n}", "metadata": {}})
                written += len(blob)
                largest = max(largest, (tmp_path / "wal.db-wal").stat().st_size)
        finally:
            await db.close()
        return largest, written

    largest, written = asyncio.run(scenario())
    assert written >= 30_000_000
    assert largest < written / 2, (largest, written)  # without the restart: about twice it


def test_a_statement_on_the_driver_first_in_a_transaction_is_part_of_it(database_url: str) -> None:
    """On PostgreSQL SQLAlchemy opens its transaction lazily; a raw statement that comes first
    must open it, or it would commit on its own and survive a rollback."""

    async def scenario() -> None:
        db = await _fresh(database_url)
        try:
            async with db.write() as conn:
                await applications.create(conn, {"name": "a", "uid": "a", "metadata": {}})
            app = None
            async with db.read() as conn:
                app = await applications.find(conn, "a")
            assert app is not None
            with pytest.raises(RuntimeError):
                async with db.write() as conn:
                    new = messages.NewMessage(app_id=app.id, event_type="x", payload=b"{}", event_id="first")
                    await messages.create(conn, new, endpoint_ids=[])  # raw INSERT, the first statement
                    raise RuntimeError("undo")
            async with db.read() as conn:
                left = (await conn.execute(select(t.message.c.id).where(t.message.c.event_id == "first"))).all()
            assert left == []
        finally:
            await db.close()

    asyncio.run(scenario())


def test_autocommit_stands_alone_on_postgresql_and_is_a_group_write_on_sqlite(database_url: str) -> None:
    """``Database.autocommit()``: on PostgreSQL each statement is committed when it returns
    (a publish's one insert needs no BEGIN or COMMIT); on SQLite it is a write that an error
    undoes. The connection it used takes part in transactions again afterwards."""

    async def scenario() -> None:
        db = Database(database_url, pool_size=1)  # one connection: the next write reuses it
        await migrate(db)
        postgresql = db.dialect == "postgresql"
        try:
            async with db.write() as conn:
                app = await applications.create(conn, {"name": "a", "uid": "a", "metadata": {}})

            async def stored(event_id: str) -> bool:
                if postgresql:  # from another session, while the block may still be open
                    other = await asyncpg.connect(database_url.replace("+asyncpg", ""))
                    try:
                        return bool(await other.fetchval("SELECT count(*) FROM message WHERE event_id = $1", event_id))
                    finally:
                        await other.close()
                async with db.read() as conn:
                    found = await conn.execute(select(t.message.c.id).where(t.message.c.event_id == event_id))
                    return found.first() is not None

            seen_inside = None
            with pytest.raises(RuntimeError):
                async with db.autocommit() as conn:
                    new = messages.NewMessage(app_id=app.id, event_type="x", payload=b"{}", event_id="alone")
                    await messages.create(conn, new, endpoint_ids=[], fifo_endpoints=())
                    seen_inside = await stored("alone") if postgresql else None
                    raise RuntimeError("after the statement")
            assert seen_inside is (True if postgresql else None)
            assert await stored("alone") is postgresql
            with pytest.raises(RuntimeError):
                async with db.write() as conn:
                    new = messages.NewMessage(app_id=app.id, event_type="x", payload=b"{}", event_id="undone")
                    await messages.create(conn, new, endpoint_ids=[], fifo_endpoints=())
                    raise RuntimeError("undo")
            assert await stored("undone") is False
        finally:
            await db.close()

    asyncio.run(scenario())
