"""Recording outcomes (store/queue.py ``record``): attempts, next states fenced on the lease,
and endpoint recoveries; successes alone are one statement on PostgreSQL, outside a transaction."""

import asyncio
import dataclasses
from ipaddress import ip_network
from typing import Any

from sqlalchemy import select, update

from hookline.api.schemas import EndpointIn
from hookline.config import Settings
from hookline.domain.model import DeliveryStatus
from hookline.services import applications as app_service
from hookline.services import endpoints as endpoint_service
from hookline.services import publishing
from hookline.services.context import Context
from hookline.store import queue
from hookline.store import tables as t
from hookline.store.database import Database, now_ms
from hookline.store.migrate import migrate


def _outcome(item: queue.Claimed, *, succeeded: bool, retry_at: int | None = None) -> queue.Outcome:
    code = 200 if succeeded else 500
    return queue.Outcome(item, now_ms(), item.url or "", code, "ok", 3, None, succeeded, retry_at)


def test_outcomes_are_recorded_alone_or_in_a_transaction_alike(database_url: str) -> None:
    async def scenario() -> None:
        db = Database(database_url)
        await migrate(db)
        ctx = Context(db=db, settings=Settings(database_url=database_url, allowed_cidrs=(ip_network("127.0.0.0/8"),)))
        try:
            await app_service.create(ctx, {"name": "a", "uid": "a", "metadata": {}})
            fields = EndpointIn.model_validate({"url": "http://127.0.0.1:9/"}).model_dump(
                exclude={"secret", "headers", "key_type"}
            )
            options: dict[str, Any] = {"secret": None, "key_type": "hmac", "headers": None, "tenant": None}
            endpoint = await endpoint_service.create(ctx, "a", fields, **options)
            for i in range(3):
                await publishing.publish(ctx, "a", publishing.Publish(event_type="x.y", payload={"i": i}), tenant=None)
            async with db.write() as conn:
                await conn.execute(update(t.endpoint).values(failing_since=1))  # a run of failures, ended below
                claimed = (await queue.claim(conn, now_ms(), 30_000, 10, endpoint_cap=10)).items
            assert len(claimed) == 3
            first, second, third = claimed
            stale = dataclasses.replace(second, locked_until=second.locked_until + 1)  # a lease we no longer hold
            alone = [_outcome(first, succeeded=True), _outcome(stale, succeeded=True)]
            assert queue.records_alone(alone)
            async with db.autocommit() as conn:
                assert await queue.record(conn, alone, disable_after_ms=10**9) == []
            retry_at = now_ms() + 60_000
            failed = [_outcome(third, succeeded=False, retry_at=retry_at)]
            assert not queue.records_alone(failed)
            async with db.write() as conn:
                await queue.record(conn, failed, disable_after_ms=10**9)

            async with db.read() as conn:
                rows = (await conn.execute(select(t.delivery).order_by(t.delivery.c.id))).mappings().all()
                states = {r["id"]: (r["status"], r["attempts"], r["locked_until"], r["next_attempt_at"]) for r in rows}
                attempts = (await conn.execute(select(t.attempt.c.delivery_id, t.attempt.c.status))).all()
                since = (await conn.execute(select(t.endpoint.c.failing_since))).scalar_one()
            assert states[first.id] == (DeliveryStatus.SUCCESS, 1, None, None)
            assert states[second.id][0] == DeliveryStatus.SENDING and states[second.id][2] == second.locked_until
            assert states[third.id] == (DeliveryStatus.PENDING, 1, None, retry_at)
            assert sorted(attempts) == sorted(
                [
                    (first.id, DeliveryStatus.SUCCESS),
                    (second.id, DeliveryStatus.SUCCESS),
                    (third.id, DeliveryStatus.FAIL),
                ]
            ), "every attempt is logged, a stale lease's too"
            assert since is None and endpoint.id == first.endpoint_id
        finally:
            await db.close()

    asyncio.run(scenario())


def test_a_resend_claimed_after_its_endpoint_was_disabled_keeps_the_earlier_success(database_url: str) -> None:
    """The engine settles a delivery whose endpoint is disabled without an attempt (``url`` "",
    "not sent"). A delivered message resent just before the endpoint was disabled stays
    ``success``; one that never succeeded is ``fail`` (as Svix fails a disabled endpoint's)."""

    async def scenario() -> None:
        db = Database(database_url)
        await migrate(db)
        ctx = Context(db=db, settings=Settings(database_url=database_url, allowed_cidrs=(ip_network("127.0.0.0/8"),)))
        try:
            await app_service.create(ctx, {"name": "a", "uid": "a", "metadata": {}})
            fields = EndpointIn.model_validate({"url": "http://127.0.0.1:9/"}).model_dump(
                exclude={"secret", "headers", "key_type"}
            )
            options: dict[str, Any] = {"secret": None, "key_type": "hmac", "headers": None, "tenant": None}
            endpoint = await endpoint_service.create(ctx, "a", fields, **options)
            delivered, failed = [
                await publishing.publish(ctx, "a", publishing.Publish(event_type="x.y", payload={"i": i}), tenant=None)
                for i in range(2)
            ]
            async with db.write() as conn:
                first = (await queue.claim(conn, now_ms(), 30_000, 10, endpoint_cap=10)).items
            outcomes = {item.msg_id: _outcome(item, succeeded=item.msg_id == delivered.id) for item in first}
            async with db.write() as conn:
                await queue.record(conn, list(outcomes.values()), disable_after_ms=10**9)
            async with db.write() as conn:
                for message in (delivered, failed):
                    await queue.enqueue_manual(conn, message.id, endpoint.id, endpoint.app_id, now_ms())
                await conn.execute(update(t.endpoint).values(disabled=True))
                again = (await queue.claim(conn, now_ms(), 30_000, 10, endpoint_cap=10)).items
            assert len(again) == 2 and all(item.disabled for item in again)
            not_sent = [queue.Outcome(item, now_ms(), "", 0, "", 0, "not sent", False, None) for item in again]
            async with db.write() as conn:
                await queue.record(conn, not_sent, disable_after_ms=10**9)
            async with db.read() as conn:
                rows = (await conn.execute(select(t.delivery.c.msg_id, t.delivery.c.status))).all()
                tried = (await conn.execute(select(t.attempt.c.msg_id))).scalars().all()
            assert dict(rows) == {delivered.id: DeliveryStatus.SUCCESS, failed.id: DeliveryStatus.FAIL}
            assert sorted(tried) == sorted([delivered.id, failed.id]), "no attempt was made for the resends"
        finally:
            await db.close()

    asyncio.run(scenario())
