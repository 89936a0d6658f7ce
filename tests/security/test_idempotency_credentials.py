"""Responses that carry a credential are never stored for idempotent replay (the svix SDKs
send an idempotency-key on every POST; the table would keep tokens and secrets in clear)."""

from sqlalchemy import select
from tests.support.api import make_endpoint
from tests.support.servers import Receiver, run

from hookline.store import tables
from hookline.store.database import Database


async def _stored_bodies(url: str) -> list[bytes]:
    db = Database(url)
    try:
        async with db.read() as conn:
            return [bytes(b or b"") for b in (await conn.execute(select(tables.idempotency.c.body))).scalars()]
    finally:
        await db.close()


def test_tokens_and_rotated_secrets_are_not_kept_for_replay(hookline, receiver: Receiver) -> None:
    with hookline.client() as c:
        _app, ep = make_endpoint(c, receiver.url())
        key = {"idempotency-key": "same-key-1"}
        first = c.post("/api/v1/auth/app-portal-access/acme", json={}, headers=key).json()["token"]
        second = c.post("/api/v1/auth/app-portal-access/acme", json={}, headers=key).json()["token"]
        rotated = c.post(f"/api/v1/app/acme/endpoint/{ep}/secret/rotate", json={}, headers=key)
        assert rotated.status_code in (200, 204), rotated.text
        # An ordinary POST is still replayed.
        made = c.post("/api/v1/app", json={"name": "B", "uid": "b"}, headers=key)
        again = c.post("/api/v1/app", json={"name": "B", "uid": "b"}, headers=key)
        assert made.json() == again.json()
        secret = c.get(f"/api/v1/app/acme/endpoint/{ep}/secret").json()["key"]
    assert first != second  # each call ran: nothing was replayed from storage
    bodies = b"\n".join(run(_stored_bodies(hookline.settings.database_url)))
    assert b'"uid":"b"' in bodies
    for credential in (first, second, secret):
        assert credential.encode() not in bodies
