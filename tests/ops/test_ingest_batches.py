"""Requests to ingest URLs that arrive together are stored together (services/ingest.py): the
verified ones, accepted or duplicates, in one transaction; every other kind alone, as before.
Each request still gets its own answer, and what is stored is what one-by-one would store."""

import asyncio
import hashlib
import hmac
import time
from ipaddress import ip_network
from typing import Any

import pytest
from sqlalchemy import func, select

from hookline.api.schemas import EndpointIn
from hookline.config import Settings
from hookline.domain.captured import CapturedRequest
from hookline.errors import NotFound
from hookline.services import endpoints as endpoint_service
from hookline.services import ingest
from hookline.services.context import Context
from hookline.store import ingest as ingest_store
from hookline.store import tables as t
from hookline.store.database import Database
from hookline.store.migrate import migrate

_URL = "https://hooks.example/in/"


def _github(secret: str, delivery: str, body: bytes, *, method: str = "POST") -> CapturedRequest:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = (
        ("Content-Type", "application/json"),
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", delivery),
        ("X-Hub-Signature-256", f"sha256={digest}"),
    )
    return CapturedRequest(method, "", "", headers, body, "127.0.0.1", int(time.time() * 1000))


async def _source(ctx: Context, name: str, secret: str, *, fifo: bool = False, **extra: Any) -> ingest.Source:
    source = await ingest.create(ctx, ingest.SourceFields(name=name, type="github", config={"secret": secret}, **extra))
    # Nothing delivers in these tests (no engine); the URL only has to pass the checks.
    endpoint = EndpointIn.model_validate({"url": f"http://127.0.0.1:9/{name}", "fifo": fifo})
    fields = endpoint.model_dump(exclude={"secret", "headers", "key_type"})
    app = await ingest.app_of(ctx, source.id)  # as the source API does: the ordinary API may not add one
    await endpoint_service.create(ctx, app, fields, secret=None, key_type="hmac", headers=None, tenant=None)
    return source


async def _setup(database_url: str) -> tuple[Database, Context]:
    db = Database(database_url)
    await migrate(db)
    settings = Settings(database_url=database_url, allowed_cidrs=(ip_network("127.0.0.0/8"),))
    return db, Context(db=db, settings=settings)


async def _stored(db: Database, source_id: str) -> list[tuple[str, str | None, bool]]:
    """The source's requests: (status, dedup key, has a message), oldest first."""
    async with db.read() as conn:
        table = t.ingest_request
        query = select(table).where(table.c.source_id == source_id).order_by(table.c.id)
        return [(r.status, r.dedup_key, r.msg_id is not None) for r in await conn.execute(query)]


async def _count(db: Database, table: Any) -> int:
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


def test_a_burst_is_stored_together_and_each_request_gets_its_own_answer(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    real = ingest_store.add_requests

    async def counting(conn: Any, received: Any) -> None:
        batches.append(len(received))
        await real(conn, received)

    monkeypatch.setattr(ingest_store, "add_requests", counting)

    async def scenario() -> None:
        db, ctx = await _setup(database_url)
        try:
            plain = await _source(ctx, "plain", "gh")
            ordered = await _source(ctx, "ordered", "gh2", fifo=True)
            limited = await _source(ctx, "limited", "gh3", rate_limit=1000)
            body = b'{"ref": "main"}'
            earlier = await ingest.receive(ctx, plain.token, _github("gh", "old", body), _URL)
            assert earlier.status_code == 200 and batches == [1]

            burst = [(plain.token, _github("gh", f"d{i}", body)) for i in range(10)]
            burst += [(plain.token, _github("gh", "twice", body)), (plain.token, _github("gh", "twice", body))]
            burst += [(plain.token, _github("gh", "old", body))]  # a repeat of one stored before
            burst += [(plain.token, _github("wrong", "bad-signature", body))]
            burst += [(plain.token, _github("gh", "a-get", body, method="GET"))]
            burst += [(ordered.token, _github("gh2", "o1", body)), (limited.token, _github("gh3", "l1", body))]
            burst += [("no-such-token", _github("gh", "lost", body))]
            answers = await asyncio.gather(
                *(ingest.receive(ctx, token, request, _URL) for token, request in burst), return_exceptions=True
            )
            statuses = [a if isinstance(a, Exception) else (a.status_code, a.body) for a in answers]
            for answer in [*answers[:10], answers[15], answers[16]]:
                assert not isinstance(answer, Exception) and answer.status_code == 200, statuses
                assert b'"accepted"' in answer.body, statuses
            twice = sorted(a.body.split(b'"status": ')[1] for a in answers[10:12])  # type: ignore[union-attr]
            assert twice == [b'"accepted"}', b'"duplicate"}'], statuses
            assert b'"duplicate"' in answers[12].body  # type: ignore[union-attr]
            assert answers[13].status_code == 401 and answers[14].status_code == 405  # type: ignore[union-attr]
            assert isinstance(answers[17], NotFound)
            # The verified requests of the plain source went together: 11 accepted, 2 duplicates.
            assert batches[1] == 13, batches

            rows = await _stored(db, plain.id)
            assert sorted(r[0] for r in rows) == ["accepted"] * 12 + ["duplicate"] * 2 + ["rejected"] * 2
            assert all(has_message == (status == "accepted") for status, _, has_message in rows)
            assert sorted(k for s, k, _ in rows if s == "duplicate") == ["id:old", "id:twice"]
            assert [s for s, _, _ in await _stored(db, ordered.id)] == ["accepted"]
            assert [s for s, _, _ in await _stored(db, limited.id)] == ["accepted"]
            # One message and one delivery for each accepted request; each key remembered once.
            assert await _count(db, t.message) == await _count(db, t.delivery) == 14
            assert await _count(db, t.ingest_dedup) == 14

            # The same burst again: every verified one of them is now a duplicate.
            again = await asyncio.gather(*(ingest.receive(ctx, plain.token, r, _URL) for _, r in burst[:13]))
            assert all(b'"duplicate"' in a.body for a in again)
            assert await _count(db, t.message) == 14
        finally:
            await db.close()

    asyncio.run(scenario())


def test_a_key_taken_meanwhile_sends_the_batch_one_by_one(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process took a key between the batch's check and its insert: the batch is undone
    and each request goes alone, so that only the repeat is answered as a duplicate."""

    async def scenario() -> None:
        db, ctx = await _setup(database_url)
        try:
            source = await _source(ctx, "plain", "gh")
            body = b'{"ref": "main"}'
            first = await ingest.receive(ctx, source.token, _github("gh", "taken", body), _URL)
            assert b'"accepted"' in first.body
            real = ingest_store.seen_many
            missed: list[int] = []

            async def blind(conn: Any, keys: Any, now: int) -> set[tuple[str, str]]:
                # As if the other process's entry were committed just after this check.
                missed.append(len(await real(conn, keys, now)))
                return set()

            monkeypatch.setattr(ingest_store, "seen_many", blind)
            requests = [_github("gh", "taken", body), _github("gh", "new-1", body), _github("gh", "new-2", body)]
            answers = await asyncio.gather(*(ingest.receive(ctx, source.token, r, _URL) for r in requests))
            assert missed == [1]
            assert [a.status_code for a in answers] == [200, 200, 200]
            assert b'"duplicate"' in answers[0].body
            assert all(b'"accepted"' in a.body for a in answers[1:])
            # Nothing of the undone batch stayed: one message per accepted request.
            assert sorted(s for s, _, _ in await _stored(db, source.id)) == ["accepted"] * 3 + ["duplicate"]
            assert await _count(db, t.message) == await _count(db, t.delivery) == 3
        finally:
            await db.close()

    asyncio.run(scenario())


class _Woken:
    """What the engine was told (services/context.py's ``Wakeable``): the endpoints of each
    wake-up, () when they were not named."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def wake(self, endpoints: Any = ()) -> None:
        self.calls.append(tuple(endpoints))


def test_accepted_requests_wake_the_engine_for_their_endpoints(database_url: str) -> None:
    """An engine whose endpoints are all at their cap ignores a wake-up for them (it is woken
    when a slot frees): the batched path names the endpoints, a request whose application has
    none wakes nothing, and the transactional path (FIFO) still wakes without naming."""

    async def scenario() -> None:
        db, plain_ctx = await _setup(database_url)
        woken = _Woken()
        ctx = Context(db=db, settings=plain_ctx.settings, engine=woken)
        try:
            plain = await _source(ctx, "plain", "gh")
            ordered = await _source(ctx, "ordered", "gh2", fifo=True)
            alone = await ingest.create(ctx, ingest.SourceFields(name="alone", type="github", config={"secret": "s"}))
            listed = await endpoint_service.page(
                ctx, plain.app_id, tenant=None, limit=10, iterator=None, descending=False
            )
            endpoints = listed.rows
            body = b'{"ref": "main"}'
            for token, secret, delivery in ((plain.token, "gh", "p1"), (alone.token, "s", "a1")):
                answer = await ingest.receive(ctx, token, _github(secret, delivery, body), _URL)
                assert answer.status_code == 200 and b'"accepted"' in answer.body
            assert woken.calls == [tuple(e.id for e in endpoints)]
            answer = await ingest.receive(ctx, ordered.token, _github("gh2", "o1", body), _URL)
            assert answer.status_code == 200 and woken.calls[1:] == [()]
        finally:
            await db.close()

    asyncio.run(scenario())
