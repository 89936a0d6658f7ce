"""An endpoint at its cap with a backlog: claims go on taking the other endpoints' work in
due order (issue 16: they now read by endpoint when endpoints are left out; the speed of it
is measured in docs/benchmarks.md, not here)."""

import asyncio

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
            assert await _claim(db, 100) == queue.ClaimResult([], False, None)
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
