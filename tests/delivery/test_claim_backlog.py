"""An endpoint at its cap with a backlog: claims go on taking the other endpoints' work in
due order (issue 16: they now read by endpoint when endpoints are left out; the speed of it
is measured in docs/benchmarks.md, not here)."""

import asyncio

from hookline.store import applications, endpoints, messages, queue
from hookline.store.database import Database, now_ms
from hookline.store.messages import NewMessage
from hookline.store.migrate import migrate

LEASE = 60_000
CAP = 3


async def _endpoint(db: Database, app_id: str, n: int) -> str:
    fields = {
        "url": f"http://127.0.0.1:9/{n}",
        "description": "",
        "disabled": False,
        "metadata": {},
        "headers": {},
        "secret": "whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0",
    }
    async with db.write() as conn:
        return (await endpoints.create(conn, app_id, fields)).id


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
