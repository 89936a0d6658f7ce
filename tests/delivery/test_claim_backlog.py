"""An endpoint at its cap with a backlog: claims go on taking the other endpoints' work in
due order (issue 16: they now read by endpoint when endpoints are left out; the speed of it
is measured in docs/benchmarks.md, not here)."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from tests.support.store import endpoint_fields

from hookline.store import applications, endpoints, messages, queue, raw
from hookline.store.database import Database, now_ms
from hookline.store.messages import NewMessage
from hookline.store.migrate import migrate

LEASE = 60_000
CAP = 3


async def _endpoint(db: Database, app_id: str, n: int) -> str:
    async with db.write() as conn:
        return (await endpoints.create(conn, app_id, endpoint_fields(n))).id


async def _publish(db: Database, app_id: str, endpoint_id: str, count: int) -> None:
    async with db.write() as conn:
        for _ in range(count):
            message = NewMessage(app_id=app_id, event_type="e", payload=b"{}")
            await messages.create(conn, message, endpoint_ids=[endpoint_id])
    await asyncio.sleep(0.005)  # the next ones are due later


async def _claim(db: Database, limit: int) -> queue.ClaimResult:
    async with db.write() as conn:
        return await queue.claim(conn, now_ms() + 1, LEASE, limit, endpoint_cap=CAP)


def test_an_endpoint_at_its_cap_does_not_hold_back_the_others(database_url: str) -> None:
    async def scenario() -> None:
        db = Database(database_url)
        await migrate(db)
        try:
            async with db.write() as conn:
                app = await applications.create(conn, {"name": "backlog", "metadata": {}})
            busy = await _endpoint(db, app.id, 0)
            others = [await _endpoint(db, app.id, n) for n in range(1, 6)]
            await _publish(db, app.id, busy, 300)  # the oldest work, far more than the cap
            first = await _claim(db, 100)
            assert [c.endpoint_id for c in first.items] == [busy] * CAP
            # Now the busy endpoint is at its cap, with 297 due deliveries ahead of any other.
            for endpoint_id in others:
                await _publish(db, app.id, endpoint_id, 2)
            # The two endpoints whose work is oldest come first...
            second = await _claim(db, 2)
            assert sorted(c.endpoint_id for c in second.items) == sorted(others[:2])
            assert second.more_due
            # ...then the rest, two each, and still nothing of the busy endpoint.
            third = await _claim(db, 100)
            taken = sorted(c.endpoint_id for c in third.items)
            assert taken == sorted([*others[:2], *others[2:] * 2]), taken
            last = await _claim(db, 100)
            assert (last.items, last.more_due, last.wake_at, last.capped) == ([], False, None, {busy})
        finally:
            await db.close()

    asyncio.run(scenario())


def test_reading_by_endpoint_seeks_its_index_behind_a_skewed_backlog(database_url: str) -> None:
    """The plan, not the time: with one endpoint holding nearly every due row (200,000, with
    statistics taken, as in docs/benchmarks.md, fifth pass), the statement that reads by
    endpoint uses ix_delivery_queued and never walks the due order (ix_delivery_due), which
    costs a step per row of the backlog."""

    async def scenario() -> None:
        db = Database(database_url)
        await migrate(db)
        try:
            async with db.write() as conn:
                app = await applications.create(conn, {"name": "skew", "metadata": {}})
            ids = [await _endpoint(db, app.id, n) for n in range(4)]
            now = now_ms()
            # 200,000 due rows of one endpoint, made by the database itself, and one of each other.
            numbers = (
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) SELECT i FROM n"
                if db.dialect == "sqlite"
                else "SELECT generate_series(1, 200000) AS i"
            )
            insert = (
                "INSERT INTO delivery (id, msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, trigger,"
                " created_at, updated_at) SELECT :p || i, :p || i, :e, :app, 1, 0, CAST(:t AS bigint) + i, 0, :t, :t"
                " FROM ({}) s"
            )
            async with db.write() as conn:
                await conn.execute(
                    text(insert.format(numbers)), {"p": "d", "e": ids[0], "app": app.id, "t": now - 300_000}
                )
                for n, other in enumerate(ids[1:]):
                    await conn.execute(
                        text(insert.format("SELECT 0 AS i")), {"p": other, "e": other, "app": app.id, "t": now - n - 1}
                    )
                await conn.execute(text("ANALYZE"))
            statement = queue._CANDIDATES[("endpoints",)]
            explain = raw.Statement(
                "EXPLAIN QUERY PLAN " + statement.sqlite, postgresql="EXPLAIN " + statement.postgresql_named
            )
            params = {"now": now, "limit": 100, "per": 10, "window": 400, "ns": 1}
            async with db.write() as conn:
                params["endpoints"] = raw.id_list(conn, [ids[0]])
                plan = "\n".join(str(row[-1]) for row in await raw.rows(conn, explain, params))
            assert "ix_delivery_queued" in plan, plan
            assert "ix_delivery_due" not in plan, plan
        finally:
            await db.close()

    asyncio.run(scenario())


def test_the_engine_plans_its_lease_for_the_queue_as_it_is_now(database_url: str) -> None:
    """The lease statement, planned while the queue held three messages and run six times,
    then planned again once it holds 50,000 that no ANALYZE has seen: the engine's
    connections look the rows up by key. On PostgreSQL a connection with the default plan
    cache keeps the generic plan made on the small tables, which reads a whole table for
    every lease until autovacuum analyzes it (docs/benchmarks.md, sixth pass); the control
    below, a session of the API's pool beside the engine's, shows that the difference is the
    engine's ``force_custom_plan``."""

    async def scenario() -> None:
        db = Database(database_url)
        await migrate(db)
        engine = db.for_retrying_loops()
        try:
            async with db.write() as conn:
                app = await applications.create(conn, {"name": "plans", "metadata": {}})
            endpoint = await _endpoint(db, app.id, 0)
            await _publish(db, app.id, endpoint, 3)
            if db.dialect == "sqlite":
                await _grow(db, app.id, endpoint)
                async with db.write() as conn:
                    params = {"sending": 3, "lease_end": 1, "now": 1, "ids": raw.id_list(conn, _IDS)}
                    explain = raw.Statement("EXPLAIN QUERY PLAN " + queue._LEASE.sqlite)
                    plan = "\n".join(str(row[-1]) for row in await raw.rows(conn, explain, params))
                assert "USING INDEX sqlite_autoindex_delivery_1" in plan, plan
                return
            mine, control = await _lease_plans_after_growth([engine, db], lambda: _grow(db, app.id, endpoint))
        finally:
            if engine is not db:
                await engine.close()
            await db.close()
        assert "Seq Scan" not in mine, mine
        assert "delivery_pkey" in mine, mine
        assert "message_pkey" in mine, mine
        assert "Seq Scan" in control, control

    asyncio.run(scenario())


_IDS = [f"dlv_none_{n}" for n in range(30)]  # a lease's worth, none of them there: nothing changes
_GROW = (
    "INSERT INTO message (id, app_id, event_type, payload, created_at, payload_expires_at)"
    " SELECT 'g' || i, :app, 'e', '{{}}', 0, 0 FROM ({0}) s;"
    "INSERT INTO delivery (id, msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, trigger,"
    " created_at, updated_at) SELECT 'g' || i, 'g' || i, :e, :app, 1, 0, i, 0, 0, 0 FROM ({0}) s"
)


async def _grow(db: Database, app_id: str, endpoint_id: str) -> None:
    """50,000 more messages and deliveries, committed, with no ANALYZE."""
    numbers = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000) SELECT i FROM n"
        if db.dialect == "sqlite"
        else "SELECT generate_series(1, 50000) AS i"
    )
    async with db.write() as conn:
        for statement in _GROW.format(numbers).split(";"):
            await conn.execute(text(statement), {"e": endpoint_id, "app": app_id})


async def _lease_plans_after_growth(dbs: list[Database], grow: Callable[[], Awaitable[None]]) -> list[str]:
    """PostgreSQL: the plan of queue's lease statement in a session of each of ``dbs``, after
    six runs on the small queue and then its growth, from another connection."""
    args = "3, 1, 1, ARRAY[" + ", ".join(f"'{i}'" for i in _IDS) + "]"
    async with contextlib.AsyncExitStack() as stack:
        sessions = [await stack.enter_async_context(db._pg.connect()) for db in dbs]
        for session in sessions:
            await session.exec_driver_sql("PREPARE lease_probe AS " + queue._LEASE_WITH_MESSAGES.postgresql)
            for _ in range(6):
                await session.exec_driver_sql(f"EXECUTE lease_probe({args})")
            await session.commit()
        await grow()
        plans = []
        for session in sessions:
            found = await session.exec_driver_sql(f"EXPLAIN EXECUTE lease_probe({args})")
            plans.append("\n".join(str(row[0]) for row in found))
            await session.exec_driver_sql("DEALLOCATE lease_probe")
            await session.commit()
    return plans
