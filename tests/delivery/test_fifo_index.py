"""The FIFO queues' index holds only deliveries in a queue (``fifo_key IS NOT NULL``, issue 16:
the other deliveries, most of them, no longer write it). Every lookup of a queue names a key,
so each can still use it: the plan says so, on both databases."""

import asyncio

import pytest
from sqlalchemy import text

from hookline.store.database import Database
from hookline.store.migrate import migrate

# The shapes of store/messages.py (is anything ahead in this queue?) and store/queue.py (the
# next in a queue). (An endpoint's blocked heads are read by status, through ix_delivery_status,
# with the index partial or not.)
QUERIES = [
    "SELECT EXISTS (SELECT 1 FROM delivery WHERE endpoint_id = :e AND fifo_key = :k)",
    "SELECT id FROM delivery WHERE endpoint_id = :e AND fifo_key = :k AND status = 1"
    " AND next_attempt_at IS NULL ORDER BY fifo_seq LIMIT 1",
]


@pytest.mark.parametrize("query", QUERIES)
def test_every_queue_lookup_can_use_the_partial_index(database_url: str, query: str) -> None:
    async def plan() -> str:
        db = Database(database_url)
        await migrate(db)
        try:
            async with db.write() as conn:
                if db.dialect == "sqlite":
                    found = await conn.execute(text("EXPLAIN QUERY PLAN " + query), {"e": "ep", "k": "key"})
                    return "\n".join(str(row[-1]) for row in found)
                # The tables are empty: without this PostgreSQL would rightly read them whole.
                await conn.execute(text("SET LOCAL enable_seqscan = off"))
                found = await conn.execute(text("EXPLAIN " + query), {"e": "ep", "k": "key"})
                return "\n".join(str(row[0]) for row in found)
        finally:
            await db.close()

    found = asyncio.run(plan())
    assert "ix_delivery_fifo" in found, found
