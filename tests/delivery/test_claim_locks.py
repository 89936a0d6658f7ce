"""Claims on PostgreSQL lock endpoints, not the queue: a claim in progress holds back only
the endpoints it is taking deliveries of, and caps still hold against it (issue 16)."""

import asyncio
from collections import Counter

from sqlalchemy import text
from tests.support.store import endpoint_fields

from hookline.store import applications, endpoints, messages, queue
from hookline.store.database import Conn, Database, now_ms
from hookline.store.messages import NewMessage

LEASE = 60_000


async def _setup(db: Database, endpoint_count: int, messages_each: int) -> list[str]:
    async with db.write() as conn:
        app = await applications.create(conn, {"name": "locks", "metadata": {}})
        ids = []
        for n in range(endpoint_count):
            ids.append((await endpoints.create(conn, app.id, endpoint_fields(n))).id)
    for _ in range(messages_each):
        async with db.write() as conn:
            await messages.create(conn, NewMessage(app_id=app.id, event_type="e", payload=b"{}"), endpoint_ids=ids)
    return ids


def test_a_claim_in_progress_holds_back_only_its_endpoints(pg_database_url: str) -> None:
    async def scenario() -> None:
        db = Database(pg_database_url)
        try:
            first, second = await _setup(db, 2, 6)
            now = now_ms() + 1
            async with db.write() as one:
                taken = await queue.claim(one, now, LEASE, 1, endpoint_cap=10)
                assert len(taken.items) == 1
                mine = taken.items[0].endpoint_id
                other = second if mine == first else first
                # While the first claim is open, a second one takes the other endpoint's
                # deliveries at once, and none of the endpoint the first one is claiming for.
                async with db.write() as two:
                    result = await asyncio.wait_for(queue.claim(two, now, LEASE, 10, endpoint_cap=10), 30)
                assert result.items
                assert {c.endpoint_id for c in result.items} == {other}
                assert result.more_due
            # Once the first commits, its endpoint is open to others again, within its cap:
            # one lease is out, so a cap of 2 leaves room for one more.
            async with db.write() as three:
                rest = await queue.claim(three, now, LEASE, 10, endpoint_cap=2)
            assert [c.endpoint_id for c in rest.items].count(mine) == 1
        finally:
            await db.close()

    asyncio.run(scenario())


def test_concurrent_claims_never_lease_a_delivery_twice_nor_pass_the_cap(pg_database_url: str) -> None:
    """Candidates are read without row locks: what keeps claims apart is the endpoint lock
    taken in the same statement and the lease's fence on the row still being due."""

    async def scenario() -> None:
        db = Database(pg_database_url)
        try:
            await _setup(db, 3, 30)
            cap = 7
            leased: list[queue.Claimed] = []

            async def claimer() -> None:
                for _ in range(40):
                    async with db.write() as conn:
                        result = await queue.claim(conn, now_ms(), LEASE, 4, endpoint_cap=cap)
                    leased.extend(result.items)
                    if not result.items and not result.more_due:
                        return
                    await asyncio.sleep(0)

            await asyncio.gather(*(claimer() for _ in range(4)))
            ids = [c.id for c in leased]
            assert len(ids) == len(set(ids)), "a delivery was leased twice"
            per_endpoint = Counter(c.endpoint_id for c in leased)
            assert per_endpoint and set(per_endpoint.values()) == {cap}, per_endpoint
        finally:
            await db.close()

    asyncio.run(scenario())


def test_a_claim_commits_without_waiting_for_the_disk_and_nothing_else_does(pg_database_url: str) -> None:
    """A lease lost to a crash of the server leaves its delivery due again, so the claim's
    transaction commits with synchronous_commit off; that transaction only: an outcome's
    commit, on the same pooled connection afterwards, waits for the disk as before."""

    async def scenario() -> None:
        db = Database(pg_database_url, pool_size=1)
        try:
            await _setup(db, 1, 3)
            async with db.write() as conn:
                before = await _setting(conn)
                taken = await queue.claim(conn, now_ms() + 1, LEASE, 10, endpoint_cap=10)
                during = await _setting(conn)
            async with db.write() as conn:
                after = await _setting(conn)
            assert len(taken.items) == 3
            assert (before, during, after) == ("on", "off", "on")
            # A claim that leases nothing writes nothing, and changes nothing either.
            async with db.write() as conn:
                empty = await queue.claim(conn, now_ms() + 1, LEASE, 10, endpoint_cap=10)
                assert not empty.items
                assert await _setting(conn) == "on"
        finally:
            await db.close()

    asyncio.run(scenario())


async def _setting(conn: Conn) -> str:
    return str((await conn.execute(text("SHOW synchronous_commit"))).scalar_one())
