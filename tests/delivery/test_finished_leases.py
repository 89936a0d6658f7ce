"""An attempt that has ended frees its endpoint's slot for its own process at once, before its
outcome is recorded; every other process goes on counting the lease until the outcome commits
(issue 16). And a claim says which endpoints it left at their cap, so that the engine is not
woken for work that must wait for a slot anyway."""

import asyncio
import dataclasses
from collections.abc import Sequence
from ipaddress import ip_network
from pathlib import Path

from tests.support.servers import Receiver
from tests.support.store import endpoint_fields

from hookline.config import Settings
from hookline.delivery.engine import DeliveryEngine
from hookline.delivery.wakeup import PgWakeups
from hookline.store import applications, endpoints, messages, queue
from hookline.store.database import Database, now_ms, work_origin
from hookline.store.messages import NewMessage
from hookline.store.migrate import migrate

LEASE = 60_000
CAP = 2


async def _setup(db: Database, count: int, url: str | None = None) -> str:
    await migrate(db)
    async with db.write() as conn:
        app = await applications.create(conn, {"name": "finished", "metadata": {}})
        fields = endpoint_fields(0) if url is None else {**endpoint_fields(0), "url": url}
        endpoint_id = (await endpoints.create(conn, app.id, fields)).id
        for _ in range(count):
            message = NewMessage(app_id=app.id, event_type="e", payload=b"{}")
            await messages.create(conn, message, endpoint_ids=[endpoint_id])
    return endpoint_id


async def _claim(db: Database, finished: Sequence[str] = ()) -> queue.ClaimResult:
    async with db.write() as conn:
        return await queue.claim(conn, now_ms() + 1, LEASE, 10, endpoint_cap=CAP, finished=finished)


def test_a_finished_lease_leaves_the_cap_of_its_own_process_only(database_url: str) -> None:
    async def scenario() -> None:
        db = Database(database_url)
        try:
            endpoint_id = await _setup(db, 6)
            first = await _claim(db)
            assert len(first.items) == CAP
            assert first.capped == {endpoint_id}
            # Another process knows of no finished attempt: the endpoint is still full.
            other = await _claim(db)
            assert other.items == [] and other.capped == {endpoint_id}
            # This process's attempt of the first lease is over: one slot is free for it.
            done = queue.lease_key(first.items[0])
            mine = await _claim(db, [done])
            assert len(mine.items) == 1
            assert mine.items[0].id not in {c.id for c in first.items}
            assert mine.capped == {endpoint_id}
            # A key names one lease: the same delivery under another lease frees nothing.
            stale = dataclasses.replace(first.items[1], locked_until=first.items[1].locked_until - 1)
            assert (await _claim(db, [done, queue.lease_key(stale)])).items == []
        finally:
            await db.close()

    asyncio.run(scenario())


def test_outcomes_waiting_to_be_recorded_count_against_the_in_flight_limit(
    database_url: str, receiver: Receiver
) -> None:
    """A crash sends again every delivery whose outcome was not recorded, so the in-flight limit
    bounds duplicates only if those outcomes count against it. While the writer is held back
    (a slow database), no more than ``max_in_flight`` deliveries go out; then all do."""
    limit, count = 4, 20
    settings = Settings(
        database_url=database_url,
        allowed_cidrs=(ip_network("127.0.0.0/8"),),
        poll_interval=0.05,
        max_in_flight=limit,
        endpoint_concurrency=count,
    )

    async def scenario() -> tuple[int, int]:
        db = Database(database_url)
        engine = DeliveryEngine(db, settings)
        writer_free = asyncio.Event()
        record = engine._record

        async def held_back(batch: list[queue.Outcome]) -> list[str]:
            await writer_free.wait()
            return await record(batch)

        engine._record = held_back  # type: ignore[method-assign]
        try:
            await _setup(db, count, receiver.url())
            await engine.start()
            for _ in range(100):
                if len(receiver.requests) >= limit:
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.5)  # room for more to go out, if the engine would send them
            while_held = len(receiver.requests)
            writer_free.set()
            for _ in range(200):
                if len(receiver.requests) >= count:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)
            return while_held, len(receiver.requests)
        finally:
            await engine.stop()
            await db.close()

    while_held, sent = asyncio.run(scenario())
    assert while_held == limit
    assert sent == count  # each once
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == count


def test_a_wake_up_for_endpoints_at_their_cap_waits_for_a_slot(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hookline.db"
    engine = DeliveryEngine(Database(url), Settings(database_url=url))
    engine._capped = {"ep_full"}
    engine.wake(["ep_full"])
    assert not engine._wake.is_set()
    engine.wake(["ep_full", "ep_free"])
    assert engine._wake.is_set()
    engine._wake.clear()
    engine.wake()  # endpoints unknown: always
    assert engine._wake.is_set()


def test_a_process_leaves_its_own_work_notifications_alone() -> None:
    woken: list[str] = []
    wakeups = PgWakeups("postgresql+asyncpg://127.0.0.1/test", {"work": lambda: woken.append("work")})
    wakeups._notified(None, 0, "work", work_origin())
    assert woken == []
    wakeups._notified(None, 0, "work", "")  # another process's, or one that names none
    wakeups._notified(None, 0, "work", "0123456789abcdef")
    assert woken == ["work", "work"]
