"""A POST whose idempotency-key repeats gets the first 2xx answer again, and the work is done once."""

import asyncio

import httpx
from tests.support.api import make_endpoint
from tests.support.servers import ADMIN_TOKEN

from hookline.store import idempotency, tokens
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


async def _app_token(database_url: str, app_id: str) -> str:
    db = Database(database_url)
    try:
        async with db.write() as conn:
            return await tokens.create(conn, app_id=app_id, name="tenant")
    finally:
        await db.close()
