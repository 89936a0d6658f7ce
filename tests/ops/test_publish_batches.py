"""Publishes that arrive together are stored together (services/publishing.py, services/batches.py):
one facts read and one insert for the batch, each publish still answered on its own."""

import asyncio
from ipaddress import ip_network
from typing import Any

import pytest
from sqlalchemy import func, select, text

from hookline.api.schemas import EndpointIn
from hookline.config import Settings
from hookline.errors import Invalid, NotFound
from hookline.services import applications as app_service
from hookline.services import endpoints as endpoint_service
from hookline.services import event_types as event_type_service
from hookline.services import publishing
from hookline.services.context import Context
from hookline.store import messages
from hookline.store import tables as t
from hookline.store.database import Database
from hookline.store.errors import ConflictError
from hookline.store.migrate import migrate


async def _setup(database_url: str) -> tuple[Database, Context]:
    db = Database(database_url)
    await migrate(db)
    # Endpoints on loopback: nothing delivers in these tests, but their URLs must pass the checks.
    ctx = Context(db=db, settings=Settings(database_url=database_url, allowed_cidrs=(ip_network("127.0.0.0/8"),)))
    await app_service.create(ctx, {"name": "a", "uid": "a", "metadata": {}})
    await app_service.create(ctx, {"name": "b", "uid": "b", "metadata": {}})
    options: dict[str, Any] = {"secret": None, "key_type": "hmac", "headers": None, "tenant": None}
    for fields in (
        {"url": "http://127.0.0.1:9/a"},
        {"url": "http://127.0.0.1:9/f", "fifo": True, "channels": ["ordered"]},
    ):
        endpoint = EndpointIn.model_validate(fields).model_dump(exclude={"secret", "headers", "key_type"})
        await endpoint_service.create(ctx, "a", endpoint, **options)
    schema = {"1": {"type": "object", "required": ["n"]}}
    await event_type_service.create(
        ctx, {"name": "strict.thing", "description": "", "schemas": schema, "schema_validation": "enforce"}
    )
    return db, ctx


async def _counts(db: Database) -> tuple[int, int]:
    async with db.read() as conn:
        found = (await conn.execute(select(func.count()).select_from(t.message))).scalar_one()
        sent = (await conn.execute(select(func.count()).select_from(t.delivery))).scalar_one()
    return int(found), int(sent)


def test_a_burst_is_stored_in_one_insert_and_each_publish_gets_its_own_answer(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    real = messages.create_many

    async def counting(conn: Any, batch: Any, **kwargs: Any) -> Any:
        batches.append(len(batch))
        return await real(conn, batch, **kwargs)

    monkeypatch.setattr(messages, "create_many", counting)

    async def scenario() -> None:
        db, ctx = await _setup(database_url)
        try:
            plain = [publishing.Publish(event_type="x.y", payload={"i": i}) for i in range(20)]
            burst: list[Any] = [*plain]
            burst.append(publishing.Publish(event_type="x.y", payload={}, event_id="twice"))
            burst.append(publishing.Publish(event_type="x.y", payload={}, event_id="twice"))
            burst.append(publishing.Publish(event_type="strict.thing", payload={"m": 1}))  # fails its schema
            burst.append(publishing.Publish(event_type="x.y", payload={}, channels=["ordered"]))  # FIFO: its own
            results = await asyncio.gather(
                *(publishing.publish(ctx, "a", p, tenant=None) for p in burst),
                publishing.publish(ctx, "missing", publishing.Publish(event_type="x.y", payload={}), tenant=None),
                publishing.publish(ctx, "b", publishing.Publish(event_type="x.y", payload={}), tenant="not-b"),
                return_exceptions=True,
            )
            stored = results[:20]
            assert all(m.event_type == "x.y" for m in stored) and len({m.id for m in stored}) == 20
            twice = results[20:22]
            assert sum(isinstance(r, ConflictError) for r in twice) == 1, twice
            assert isinstance(results[22], Invalid)
            assert results[23].channels == ["ordered"]
            assert isinstance(results[24], NotFound) and isinstance(results[25], NotFound)
            # The first try took all 22 together; the repeated event id made them go one by one.
            assert batches[0] == 22, batches
            # 22 messages; the one on the "ordered" channel also goes to the FIFO endpoint.
            assert await _counts(db) == (22, 23)
            del batches[:]
            again = await asyncio.gather(*(publishing.publish(ctx, "a", p, tenant=None) for p in plain[:10]))
            assert batches == [10] and len({m.id for m in again}) == 10
            assert await _counts(db) == (32, 33)
        finally:
            await db.close()

    asyncio.run(scenario())


def test_a_batch_the_database_fails_fails_every_publish_in_it(database_url: str) -> None:
    async def scenario() -> None:
        db, ctx = await _setup(database_url)
        try:
            async with db.write() as conn:
                await conn.execute(text("ALTER TABLE message RENAME TO message_elsewhere"))
            burst = [publishing.Publish(event_type="x.y", payload={"i": i}) for i in range(5)]
            results = await asyncio.gather(
                *(publishing.publish(ctx, "a", p, tenant=None) for p in burst), return_exceptions=True
            )
            assert all(isinstance(r, Exception) and "message" in str(r) for r in results), results
            async with db.write() as conn:
                await conn.execute(text("ALTER TABLE message_elsewhere RENAME TO message"))
            assert (await publishing.publish(ctx, "a", burst[0], tenant=None)).event_type == "x.y"
            assert await _counts(db) == (1, 1)
        finally:
            await db.close()

    asyncio.run(scenario())
