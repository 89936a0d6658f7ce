"""A POST whose idempotency-key repeats gets the first 2xx answer again, and the work is done once."""

import asyncio

import httpx
from sqlalchemy import select
from tests.support.api import make_endpoint
from tests.support.servers import ADMIN_TOKEN

from hookline.store import idempotency, tables, tokens
from hookline.store.database import Database


def test_repeated_key_replays_the_first_answer(hookline, receiver) -> None:
    with hookline.client() as c:
        make_endpoint(c, receiver.url())
        body = {"eventType": "order.paid", "payload": {"n": 1}}
        first = c.post("/api/v1/app/acme/msg", json=body, headers={"idempotency-key": "k-1"})
        again = c.post("/api/v1/app/acme/msg", json=body, headers={"idempotency-key": "k-1"})
        other = c.post("/api/v1/app/acme/msg", json=body, headers={"idempotency-key": "k-2"})
        listed = c.get("/api/v1/app/acme/msg").json()["data"]
        receiver.wait_for(2)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert other.json()["id"] != first.json()["id"]
    assert len(listed) == 2


def test_failed_first_request_does_not_poison_the_key(hookline) -> None:
    with hookline.client() as c:
        bad = c.post("/api/v1/app", json={"uid": "no-name"}, headers={"idempotency-key": "k"})
        good = c.post("/api/v1/app", json={"name": "ok", "uid": "ok"}, headers={"idempotency-key": "k"})
    assert bad.status_code == 422
    assert good.status_code == 201


def test_keys_are_scoped_to_the_path(hookline) -> None:
    with hookline.client() as c:
        app = c.post("/api/v1/app", json={"name": "a", "uid": "a"}, headers={"idempotency-key": "same"})
        et = c.post("/api/v1/event-type", json={"name": "x.y", "description": "d"}, headers={"idempotency-key": "same"})
    assert app.status_code == 201 and et.status_code == 201
    assert et.json()["name"] == "x.y"


def test_keys_are_scoped_to_the_caller(hookline) -> None:
    with hookline.client() as c:
        app_id = c.post("/api/v1/app", json={"name": "a", "uid": "a"}).json()["id"]
        first = c.post("/api/v1/app/a/msg", json={"eventType": "a.b", "payload": {}}, headers={"idempotency-key": "k"})
    token = asyncio.run(_app_token(hookline.settings.database_url, app_id))
    with hookline.client(token) as tenant:
        other = tenant.post(
            "/api/v1/app/a/msg", json={"eventType": "a.b", "payload": {}}, headers={"idempotency-key": "k"}
        )
    assert first.status_code == other.status_code == 202
    assert other.json()["id"] != first.json()["id"] and "idempotent-replayed" not in other.headers


def test_a_key_left_pending_is_taken_over(hookline) -> None:
    """A request that died mid-way (its process killed) must not block its key for 12 hours."""

    async def scenario() -> None:
        db = Database(hookline.settings.database_url)
        try:
            async with db.write() as conn:
                assert await idempotency.claim_many(conn, ["digest"], 1_000) == {}
            async with db.write() as conn:
                earlier = (await idempotency.claim_many(conn, ["digest"], 2_000))["digest"]
                assert earlier.state == "pending"
            async with db.write() as conn:
                assert await idempotency.claim_many(conn, ["digest"], 1_000 + idempotency.ABANDONED_MS + 1) == {}
                await idempotency.settle_many(conn, [("digest", 202, b"{}")], [])
            async with db.write() as conn:
                # A finished answer is kept for replay however long it took.
                done = (await idempotency.claim_many(conn, ["digest"], 3 * idempotency.ABANDONED_MS))["digest"]
                assert (done.state, done.status_code, done.body) == ("done", 202, b"{}")
        finally:
            await db.close()

    asyncio.run(scenario())


def test_keys_reserved_together_each_get_their_own_answer(hookline) -> None:
    """One statement for a batch of keys: new ones are reserved, a pending one and a done one
    are reported as they are, an expired answer is taken over, a freed key is free again."""

    async def scenario() -> None:
        db = Database(hookline.settings.database_url)
        day = idempotency.TTL_MS
        try:
            async with db.write() as conn:
                assert await idempotency.claim_many(conn, ["expired"], day) == {}
                await idempotency.settle_many(conn, [("expired", 202, b"e")], [])
            async with db.write() as conn:
                assert await idempotency.claim_many(conn, ["pending", "done", "freed"], 2 * day) == {}
                await idempotency.settle_many(conn, [("done", 201, b"d")], ["freed"])
            async with db.write() as conn:
                found = await idempotency.claim_many(conn, ["new", "pending", "done", "expired", "freed"], 2 * day + 5)
            assert set(found) == {"pending", "done"}
            assert found["pending"].state == "pending"
            assert (found["done"].state, found["done"].status_code, found["done"].body) == ("done", 201, b"d")
        finally:
            await db.close()

    asyncio.run(scenario())


def test_concurrent_publishes_with_keys_are_each_stored_once(hookline, receiver) -> None:
    """What the svix SDKs do (a key on every POST), many at once: the reservations and answers
    are written in batches; each key is published once and replays its own answer."""

    async def scenario() -> tuple[list[httpx.Response], list[httpx.Response]]:
        headers = {"authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(base_url=hookline.url, headers=headers) as c:

            async def post(n: int) -> httpx.Response:
                body = {"eventType": "order.paid", "payload": {"n": n}}
                return await c.post("/api/v1/app/acme/msg", json=body, headers={"idempotency-key": f"key-{n}"})

            first = await asyncio.gather(*(post(n) for n in range(40)))
            again = await asyncio.gather(*(post(n) for n in range(40)))
            return first, again

    with hookline.client() as c:
        make_endpoint(c, receiver.url())
        first, again = asyncio.run(scenario())
        listed = c.get("/api/v1/app/acme/msg", params={"limit": 100}).json()["data"]
        receiver.wait_for(40)
    assert [r.status_code for r in first] == [202] * 40
    assert [r.json()["payload"]["n"] for r in first] == list(range(40))
    assert [r.json() for r in again] == [r.json() for r in first]
    assert all(r.headers["idempotent-replayed"] == "true" for r in again)
    assert len(listed) == 40


def test_one_key_sent_many_times_at_once_publishes_once(hookline, receiver) -> None:
    """Requests with the same key that arrive together, in one batch of publishes: the first
    publishes, every other one is told the key is in use, or replays the first's answer."""

    async def scenario() -> list[httpx.Response]:
        headers = {"authorization": f"Bearer {ADMIN_TOKEN}", "idempotency-key": "same"}
        async with httpx.AsyncClient(base_url=hookline.url, headers=headers) as c:
            body = {"eventType": "order.paid", "payload": {"n": 1}}
            return await asyncio.gather(*(c.post("/api/v1/app/acme/msg", json=body) for _ in range(20)))

    with hookline.client() as c:
        make_endpoint(c, receiver.url())
        answers = asyncio.run(scenario())
        listed = c.get("/api/v1/app/acme/msg").json()["data"]
        again = c.post(
            "/api/v1/app/acme/msg", json={"eventType": "x", "payload": {}}, headers={"idempotency-key": "same"}
        )
        receiver.wait_for(1)
    first = [r for r in answers if r.status_code == 202 and "idempotent-replayed" not in r.headers]
    assert len(first) == 1, [r.status_code for r in answers]
    assert all(r.status_code in (202, 409) for r in answers)
    assert all(r.json() == first[0].json() for r in answers if r.status_code == 202)
    assert all(r.json()["code"] == "idempotency_conflict" for r in answers if r.status_code == 409)
    assert [m["id"] for m in listed] == [first[0].json()["id"]]
    assert (
        again.status_code == 202 and again.json() == first[0].json() and again.headers["idempotent-replayed"] == "true"
    )


def test_a_publish_refused_for_its_event_id_frees_its_key(hookline) -> None:
    """A keyed publish whose eventId repeats fails after its key was reserved in the batch:
    the key is freed with it, so the client's retry (same key, fixed body) goes through."""
    with hookline.client() as c:
        c.post("/api/v1/app", json={"name": "acme", "uid": "acme"})
        c.post("/api/v1/app/acme/msg", json={"eventType": "a.b", "payload": {}, "eventId": "evt-1"})
        repeat = {"eventType": "a.b", "payload": {}, "eventId": "evt-1"}
        refused = c.post("/api/v1/app/acme/msg", json=repeat, headers={"idempotency-key": "k"})
        fixed = {"eventType": "a.b", "payload": {}, "eventId": "evt-2"}
        retried = c.post("/api/v1/app/acme/msg", json=fixed, headers={"idempotency-key": "k"})
        replayed = c.post("/api/v1/app/acme/msg", json=fixed, headers={"idempotency-key": "k"})
    assert refused.status_code == 409 and refused.json()["code"] == "conflict"
    assert retried.status_code == 202 and retried.json()["eventId"] == "evt-2"
    assert replayed.headers["idempotent-replayed"] == "true" and replayed.json() == retried.json()


def test_a_keyed_publish_that_needs_a_write_of_its_own_keeps_its_key_too(hookline) -> None:
    """A publish that creates its application is stored outside the batches; its key is kept
    in that write: the repeat replays, and nothing is created twice. An unknown application
    without ``application`` reserves nothing: the same key works once it exists."""
    body = {"eventType": "a.b", "payload": {"n": 1}, "application": {"name": "New"}}
    with hookline.client() as c:
        missing = c.post(
            "/api/v1/app/other/msg", json={"eventType": "a.b", "payload": {}}, headers={"idempotency-key": "m"}
        )
        created = c.post("/api/v1/app/fresh/msg", json=body, headers={"idempotency-key": "k"})
        again = c.post("/api/v1/app/fresh/msg", json=body, headers={"idempotency-key": "k"})
        listed = c.get("/api/v1/app/fresh/msg").json()["data"]
        c.post("/api/v1/app", json={"name": "other", "uid": "other"})
        found = c.post(
            "/api/v1/app/other/msg", json={"eventType": "a.b", "payload": {}}, headers={"idempotency-key": "m"}
        )
    assert missing.status_code == 404
    assert created.status_code == 202 and "idempotent-replayed" not in created.headers
    assert again.status_code == 202 and again.headers["idempotent-replayed"] == "true"
    assert again.content == created.content
    assert len(listed) == 1
    assert found.status_code == 202 and "idempotent-replayed" not in found.headers


def test_the_stored_answer_is_the_one_sent(hookline) -> None:
    """The answer kept for replay is stored with the message, byte for byte what the client got
    (``with_content=false`` too), and marked done."""

    async def stored() -> list[tuple[str, int, bytes]]:
        db = Database(hookline.settings.database_url)
        try:
            async with db.read() as conn:
                idem = tables.idempotency
                rows = (await conn.execute(select(idem.c.state, idem.c.status_code, idem.c.body))).all()
            return [(row[0], row[1], bytes(row[2])) for row in rows]
        finally:
            await db.close()

    with hookline.client() as c:
        c.post("/api/v1/app", json={"name": "acme", "uid": "acme"})
        sent = c.post(
            "/api/v1/app/acme/msg",
            params={"with_content": "false"},
            json={"eventType": "a.b", "payload": {"secret": "not echoed"}},
            headers={"idempotency-key": "k"},
        )
    assert sent.status_code == 202 and sent.json()["payload"] == {}
    assert asyncio.run(stored()) == [("done", 202, sent.content)]


async def _app_token(database_url: str, app_id: str) -> str:
    db = Database(database_url)
    try:
        async with db.write() as conn:
            return await tokens.create(conn, app_id=app_id, name="tenant")
    finally:
        await db.close()
